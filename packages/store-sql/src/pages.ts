/**
 * Cursor pagination as Persona pages: a cursor is the id of the item it stands next to; `seq`
 * gives the stable order (newest first), or breaks ties of another sort key. Shared by accounts,
 * search, runs, importers and webhooks.
 */
import { type AccountsError, InvalidRequest, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, type PageQuery } from "@acct/core"
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

export const pageSize = (query: PageQuery) =>
  query.size === undefined
    ? Effect.succeed(PAGE_SIZE_DEFAULT)
    : Number.isInteger(query.size) && query.size >= 1 && query.size <= PAGE_SIZE_MAX
      ? Effect.succeed(query.size)
      : Effect.fail(new InvalidRequest({ message: `page size must be an integer from 1 to ${PAGE_SIZE_MAX}, got ${query.size}`, issues: [{ path: ["page", "size"], message: `expected 1–${PAGE_SIZE_MAX}` }] }))

export interface Cursor {
  readonly op: "<" | ">"
  readonly seq: number
}

/**
 * One page in any order: `locate` finds the cursor item's position (its sort key), `fetch` reads
 * `limit` rows after it in the page order, or before it (`backwards`, nearest first). Fetches
 * one extra row to know whether more follow.
 */
export const paginateWith = <Row extends { readonly id: string }, C>(
  query: PageQuery,
  locate: (id: string) => Effect.Effect<C | undefined, SqlError>,
  fetch: (cursor: C | undefined, backwards: boolean, limit: number) => Effect.Effect<ReadonlyArray<Row>, SqlError>
): Effect.Effect<{ rows: ReadonlyArray<Row>; next: string | null; prev: string | null }, AccountsError | SqlError> =>
  Effect.gen(function* () {
    if (query.after !== undefined && query.before !== undefined) {
      return yield* new InvalidRequest({ message: "give page[after] or page[before], not both", issues: [{ path: ["page"], message: "after and before are exclusive" }] })
    }
    const size = yield* pageSize(query)
    const cursorId = query.after ?? query.before
    let cursor: C | undefined
    if (cursorId !== undefined) {
      cursor = yield* locate(cursorId)
      if (cursor === undefined) {
        const side = query.after !== undefined ? "after" : "before"
        return yield* new InvalidRequest({ message: `page[${side}]: no item ${JSON.stringify(cursorId.slice(0, 60))} to page from`, issues: [{ path: ["page", side], message: "unknown cursor" }] })
      }
    }
    if (query.before !== undefined) {
      const rows = yield* fetch(cursor, true, size + 1)
      const more = rows.length > size
      const items = rows.slice(0, size).reverse()
      return { rows: items, prev: more && items[0] ? items[0].id : null, next: items.length > 0 ? items[items.length - 1]!.id : query.before }
    }
    const rows = yield* fetch(cursor, false, size + 1)
    const more = rows.length > size
    const items = rows.slice(0, size)
    return {
      rows: items,
      next: more ? items[items.length - 1]!.id : null,
      prev: query.after !== undefined ? (items[0]?.id ?? query.after) : null
    }
  })

/** Newest first by `seq`. */
export const paginate = <Row extends { readonly seq: number; readonly id: string }>(
  query: PageQuery,
  seqOf: (id: string) => Effect.Effect<ReadonlyArray<{ readonly seq: number }>, SqlError>,
  fetch: (cursor: Cursor | undefined, order: "DESC" | "ASC", limit: number) => Effect.Effect<ReadonlyArray<Row>, SqlError>
) =>
  paginateWith<Row, number>(
    query,
    (id) => Effect.map(seqOf(id), (found) => (found[0] ? Number(found[0].seq) : undefined)),
    (seq, backwards, limit) => fetch(seq === undefined ? undefined : { op: backwards ? ">" : "<", seq }, backwards ? "ASC" : "DESC", limit)
  )

/** A page of a whole table (no filter), newest first by `seq`: its `id` column is the cursor. */
export const pageTable = <Row extends { readonly seq: number; readonly id: string }>(sql: SqlClient.SqlClient, table: string, query: PageQuery) =>
  paginate<Row>(
    query,
    (id) => sql`SELECT seq FROM ${sql(table)} WHERE id = ${id}`,
    (cursor, order, limit) =>
      sql<Row>`SELECT * FROM ${sql(table)} WHERE ${cursor ? sql`seq ${sql.literal(cursor.op)} ${cursor.seq}` : sql.literal("1=1")} ORDER BY seq ${sql.literal(order)} LIMIT ${limit}`
  )
