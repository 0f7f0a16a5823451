/** Persona's JSON:API paging: the `page[after]` / `page[before]` cursors inside `links`. */
import type { Page } from "@acct/core"

const cursor = (link: string | null, name: "after" | "before") => (link === null ? null : new URL(link, "http://base").searchParams.get(`page[${name}]`))

/** A page of items with the cursors read from its `links.next` / `links.prev`. */
export const pageFromLinks = <A>(items: ReadonlyArray<A>, links: { readonly next: string | null; readonly prev: string | null }): Page<A> => ({
  items,
  next: cursor(links.next, "after"),
  prev: cursor(links.prev, "before")
})
