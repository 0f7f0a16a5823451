/**
 * One tagged error per failure kind. Each knows its HTTP status and whether retrying can help,
 * so every edge (HTTP, CLI exit code, Slack message) maps them the same way.
 */
import { Duration, ParseResult, Schema } from "effect"
import { plainIssues } from "./schema-words.js"

/** Where in the input a problem is: `["parameters", "status"]` → `parameters.status`. */
export const Issue = Schema.Struct({
  path: Schema.Array(Schema.Union(Schema.String, Schema.Number)),
  message: Schema.String
})
export type Issue = typeof Issue.Type

/** A key that reads as itself in a dotted path; others (empty, with dots or spaces) are quoted. */
const PLAIN_KEY = /^[\w\-[\]]+$/

export const formatPath = (path: ReadonlyArray<string | number>): string =>
  path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`
    const key = PLAIN_KEY.test(part) ? part : JSON.stringify(part)
    return acc ? `${acc}.${key}` : key
  }, "")

export const formatIssues = (issues: ReadonlyArray<Issue>): string =>
  issues.map((i) => (i.path.length > 0 ? `${formatPath(i.path)}: ${i.message}` : i.message)).join("; ")

/** A schema decode failure as issues people can act on, in words (schema-words.ts). */
export const issuesOf = (error: ParseResult.ParseError): ReadonlyArray<Issue> => plainIssues(ParseResult.ArrayFormatter.formatErrorSync(error))

/**
 * A refusal's message said from its issues, `what: path: problem; …` (`what` optional) — the
 * form `renameIssuePaths` relies on to name the paths again.
 */
const messageOf = (issues: ReadonlyArray<Issue>, what?: string) => (what === undefined ? formatIssues(issues) : `${what}: ${formatIssues(issues)}`)

/** Malformed input: a bad id, an unknown option, a value of the wrong shape. */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  message: Schema.String,
  issues: Schema.optionalWith(Schema.Array(Issue), { default: () => [] })
}) {
  /** The refusal of these issues, its message said from them (`what: path: problem; …`). */
  static fromIssues(issues: ReadonlyArray<Issue>, what?: string) {
    return new InvalidRequest({ message: messageOf(issues, what), issues })
  }
  get status() { return 400 as const }
  get retryable() { return false }
}

/**
 * The error with its issues' paths as an edge's input names them — a Persona body's
 * `data.attributes.account-status` for the store's `status` — in its message too: a message
 * built from its issues (`fromIssues`) ends with them formatted, and that ending is said again
 * with the new paths; any other message is kept as it is.
 */
export const renameIssuePaths = <E>(error: E, rename: (path: ReadonlyArray<string | number>) => ReadonlyArray<string | number>): E => {
  if (!(error instanceof InvalidRequest || error instanceof Unprocessable) || error.issues.length === 0) return error
  const issues = error.issues.map((issue) => ({ path: rename(issue.path), message: issue.message }))
  const before = formatIssues(error.issues)
  const message = error.message.endsWith(before) ? `${error.message.slice(0, error.message.length - before.length)}${formatIssues(issues)}` : error.message
  return (error instanceof InvalidRequest ? new InvalidRequest({ message, issues }) : new Unprocessable({ message, issues })) as E
}

export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  message: Schema.String
}) {
  get status() { return 401 as const }
  get retryable() { return false }
}

export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  message: Schema.String,
  missingScope: Schema.String
}) {
  get status() { return 403 as const }
  get retryable() { return false }
}

export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  message: Schema.String,
  entity: Schema.String,
  ref: Schema.String
}) {
  get status() { return 404 as const }
  get retryable() { return false }
  static of(entity: string, ref: string) {
    return new NotFound({ entity, ref, message: `${entity} ${JSON.stringify(ref)} not found` })
  }
}

/** Someone else changed the record first, or a duplicate request is still in flight. */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  message: Schema.String
}) {
  get status() { return 409 as const }
  get retryable() { return false }
}

/** The operation is not allowed from the account's current state (e.g. activate a disabled account). */
export class InvalidState extends Schema.TaggedError<InvalidState>()("InvalidState", {
  message: Schema.String,
  currentStatus: Schema.String
}) {
  get status() { return 409 as const }
  get retryable() { return false }
}

/** Well-formed but unacceptable: parameters failing the action's schema, an idempotency key reused. */
export class Unprocessable extends Schema.TaggedError<Unprocessable>()("Unprocessable", {
  message: Schema.String,
  issues: Schema.optionalWith(Schema.Array(Issue), { default: () => [] })
}) {
  /** The refusal of these issues, its message said from them (`what: path: problem; …`). */
  static fromIssues(issues: ReadonlyArray<Issue>, what?: string) {
    return new Unprocessable({ message: messageOf(issues, what), issues })
  }
  get status() { return 422 as const }
  get retryable() { return false }
}

export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  message: Schema.String,
  /** The server's hint (Retry-After or RateLimit-Reset), in seconds. */
  retryAfterSeconds: Schema.optional(Schema.Number)
}) {
  get status() { return 429 as const }
  get retryable() { return true }
}

/** A dependency (database, upstream API) cannot serve right now. */
export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", {
  message: Schema.String,
  retryAfterSeconds: Schema.optional(Schema.Number)
}) {
  get status() { return 503 as const }
  get retryable() { return true }
}

export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  message: Schema.String
}) {
  get status() { return 504 as const }
  get retryable() { return true }
}

export const AccountsError = Schema.Union(
  InvalidRequest,
  Unauthorized,
  Forbidden,
  NotFound,
  Conflict,
  InvalidState,
  Unprocessable,
  RateLimited,
  Unavailable,
  Timeout
)
export type AccountsError = typeof AccountsError.Type

export const isAccountsError = Schema.is(AccountsError)

export const isRetryable = (error: unknown): boolean =>
  isAccountsError(error) && error.retryable

/** The server's hint for when to retry, if it gave one. */
export const retryHint = (error: unknown): Duration.Duration | undefined =>
  isAccountsError(error) && "retryAfterSeconds" in error && error.retryAfterSeconds !== undefined
    ? Duration.seconds(error.retryAfterSeconds)
    : undefined
