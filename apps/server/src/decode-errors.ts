/**
 * A request that does not fit the wire schema, in core's words (`plainIssues`, the one home of
 * that wording): `meta.tag-name: expected a list of strings, got null`. Field names are said as
 * the sender spelled them (its Key-Inflection).
 */
import { OPAQUE_KEYS } from "@acct/api"
import { formatPath, plainIssues, type RawIssue } from "@acct/core"

/**
 * How a key of the request is named back to its sender: the wire schemas are kebab-case, and a
 * body in another Key-Inflection was turned into kebab-case before it was decoded, so the caller
 * passes the inverse (`account-type-id` → `accountTypeId`). Keys under `fields` and
 * `parameters` are the account type's own and are never renamed.
 */
export type KeyNamer = (key: string) => string
const asIs: KeyNamer = (key) => key

/** "expected an object" at the root names no field: there it is the body that is wrong. */
const atRoot = (message: string) =>
  message.startsWith("expected an object") ? `the request body must be a JSON object${message.slice("expected an object".length)}` : message

/** A path and the known-fields list of its message, named by `name` outside opaque keys. */
const named = (issue: { readonly path: ReadonlyArray<string | number>; readonly message: string }, name: KeyNamer) => {
  let opaque = false
  const path = issue.path.map((key) => {
    if (typeof key !== "string") return key
    const shown = opaque ? key : name(key)
    if (OPAQUE_KEYS.has(key)) opaque = true
    return shown
  })
  const message = opaque ? issue.message : issue.message.replace(/\(known: (.*)\)$/, (_, list: string) => `(known: ${list.split(", ").map(name).join(", ")})`)
  return { path, message }
}

/**
 * A decode failure as one line: `field: problem; …`, each issue's keys named by `namerOf(issue)`
 * (the body's in the sender's inflection; path parameters, query parameters and headers keep
 * the spec's names).
 */
export const describeRequestIssues = (
  issues: ReadonlyArray<RawIssue>,
  namerOf: (issue: { readonly path: ReadonlyArray<PropertyKey> }) => KeyNamer = () => asIs
): string =>
  plainIssues(issues)
    .map((issue) => {
      const { message, path } = named(issue, namerOf(issue))
      return path.length > 0 ? `${formatPath(path)}: ${message}` : atRoot(message)
    })
    .join("; ")
