/**
 * The fields acct reads from what Slack sends, and nothing else: a slash command (form fields)
 * and a button click (a `block_actions` interaction). People are identified by team id + user
 * id only; `user_name` is deprecated by Slack and never read. Everything else in a payload is
 * ignored, so a field Slack adds, drops or leaves empty cannot break a command.
 */
import { formatIssues, issuesOf } from "@acct/core"
import { Either, type ParseResult, Schema } from "effect"

const Id = Schema.String.pipe(Schema.pattern(/^[A-Z0-9]{2,40}$/, { message: () => "expected a Slack id (letters and digits)" }))
const ResponseUrl = Schema.String.pipe(
  Schema.filter((text) => {
    if (text.length > 2048) return "must be at most 2048 characters"
    try {
      const url = new URL(text)
      return url.protocol === "https:" || url.protocol === "http:" ? undefined : "expected an http(s) URL"
    } catch {
      return "expected an http(s) URL"
    }
  })
)

export const SlashCommand = Schema.Struct({
  command: Schema.String,
  team_id: Id,
  user_id: Id,
  response_url: ResponseUrl,
  text: Schema.optionalWith(Schema.String, { default: () => "" })
})
export type SlashCommand = typeof SlashCommand.Type

export const BlockAction = Schema.Struct({
  type: Schema.Literal("block_actions"),
  user: Schema.Struct({ id: Id, team_id: Schema.optional(Id) }),
  /** Absent or null for some enterprise installs: then the user's team_id says the workspace. */
  team: Schema.optional(Schema.NullOr(Schema.Struct({ id: Id }))),
  response_url: ResponseUrl,
  actions: Schema.NonEmptyArray(Schema.Struct({ action_id: Schema.String, value: Schema.optional(Schema.String) }))
})
export type BlockAction = typeof BlockAction.Type

/** `field: problem; …` for the person or the log, naming only our own field names. */
const problems = (error: ParseResult.ParseError) => formatIssues(issuesOf(error))

export const decodeSlashCommand = (raw: unknown): Either.Either<SlashCommand, string> =>
  Either.mapLeft(Schema.decodeUnknownEither(SlashCommand, { errors: "all" })(raw), problems)

export const decodeBlockAction = (raw: unknown): Either.Either<BlockAction, string> =>
  Either.mapLeft(Schema.decodeUnknownEither(BlockAction, { errors: "all" })(raw), problems)

/** The workspace a click came from. */
export const teamOf = (action: BlockAction) => action.team?.id ?? action.user.team_id ?? ""

/**
 * What a verified HTTP request body is, before Bolt sees it: a slash command, an interaction,
 * Slack's SSL check, or something Slack does not send us (answered 400 with the reason).
 */
export type Classified =
  | { readonly kind: "ssl_check" }
  | { readonly kind: "command" }
  | { readonly kind: "interaction" }
  | { readonly kind: "invalid"; readonly reason: string }

export const classifyBody = (contentType: string | undefined, body: string): Classified => {
  const form = new URLSearchParams(body)
  if (form.get("ssl_check") === "1") return { kind: "ssl_check" }
  if (!(contentType ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    return { kind: "invalid", reason: "expected an application/x-www-form-urlencoded body (a slash command or an interaction)" }
  }
  const payload = form.get("payload")
  if (payload !== null) {
    let parsed: unknown
    try {
      parsed = JSON.parse(payload)
    } catch {
      return { kind: "invalid", reason: "the payload field is not JSON" }
    }
    const decoded = decodeBlockAction(parsed)
    return Either.isRight(decoded) ? { kind: "interaction" } : { kind: "invalid", reason: `not a block_actions interaction acct handles: ${decoded.left}`.slice(0, 500) }
  }
  // Commands with missing fields still reach the listener, which answers the person (ephemeral).
  if (form.get("command") !== null) return { kind: "command" }
  return { kind: "invalid", reason: "neither a slash command (command=…) nor an interaction (payload=…)" }
}
