/**
 * Persona addresses tags by name (`meta.tag-name`) or by id (`meta.tag-id`). acct keeps tags as
 * names on the account, with no tag objects to number, so a tag's id is derived from its name,
 * reversibly: `tag_` and the name's UTF-8 bytes in base64url (`vip` → `tag_dmlw`). Any backend
 * can turn an id back into its name without a lookup, and the id of a tag never changes.
 */
import { Either } from "effect"
import { InvalidRequest } from "./errors.js"

const PREFIX = "tag_"

const toBase64Url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")

/** The id of the tag with this name. */
export const tagId = (name: string): string => `${PREFIX}${toBase64Url(new TextEncoder().encode(name))}`

/** The tag name an id stands for, or an error naming `path` (e.g. `meta.tag-id`). */
export const tagNameOf = (id: string, path: string): Either.Either<string, InvalidRequest> => {
  const refuse = () =>
    Either.left(new InvalidRequest({ message: `${path}: expected a tag id (tag_ and the tag name in base64url), got ${JSON.stringify(id.slice(0, 60))}`, issues: [{ path: path.split("."), message: "not a tag id" }] }))
  const body = id.slice(PREFIX.length)
  if (!id.startsWith(PREFIX) || body === "" || !/^[A-Za-z0-9_-]+$/.test(body) || body.length % 4 === 1) return refuse()
  try {
    const binary = atob(body.replace(/-/g, "+").replace(/_/g, "/"))
    const name = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))
    return tagId(name) === id ? Either.right(name) : refuse()
  } catch {
    return refuse()
  }
}
