import { Either, Schema } from "effect"
import { InvalidRequest } from "./errors.js"
import { Fields } from "./fields.js"
import { AccountActionId, AccountId, AccountTypeId, ActionRunId, type IdOwner } from "./ids.js"
import { Actor } from "./principal.js"

export const ReferenceId = Schema.String.pipe(
  Schema.minLength(1, { message: () => "a reference id must not be empty" }),
  Schema.maxLength(255, { message: () => "a reference id must be at most 255 characters" }),
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  Schema.pattern(/^[^\s\u0000-\u001F\u007F]+$/, { message: () => "a reference id must not contain spaces or control characters" })
)

export const Tag = Schema.String.pipe(
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  Schema.pattern(/^[^\s,\u0000-\u001F\u007F][^,\u0000-\u001F\u007F]{0,99}$/, {
    message: () => "a tag is 1–100 characters, no commas or control characters, not starting with a space"
  })
)

export class Account extends Schema.Class<Account>("Account")({
  id: AccountId,
  referenceId: Schema.NullOr(Schema.String),
  accountTypeId: AccountTypeId,
  accountTypeName: Schema.String,
  status: Schema.String,
  fields: Fields,
  tags: Schema.Array(Schema.String),
  /** Increments with every change; a write that expected another version is a Conflict. */
  version: Schema.Int,
  createdAt: Schema.Date,
  updatedAt: Schema.Date,
  redactedAt: Schema.NullOr(Schema.Date),
  /** Set on the sources of a consolidation: they live on, archived, pointing at the destination. */
  consolidatedInto: Schema.NullOr(AccountId)
}) {}

/** `running`: accepted by an upstream (Persona runs actions as asynchronous workflows) and not finished yet. */
export const ActionRunStatus = Schema.Literal("succeeded", "failed", "running")

/** One run of an account action or lifecycle operation (Persona's workflow run). */
export class ActionRun extends Schema.Class<ActionRun>("ActionRun")({
  id: ActionRunId,
  accountId: AccountId,
  /** The configured action, or null for a built-in lifecycle operation. */
  actionId: Schema.NullOr(AccountActionId),
  actionName: Schema.String,
  status: ActionRunStatus,
  /** Who acted: the person, when a trusted front end named one (see `Invocation.onBehalfOf`). */
  actor: Actor,
  /** The API key a person acted through (a front end's delegation), else null. */
  via: Schema.optionalWith(Schema.NullOr(Actor), { default: () => null }),
  parameters: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  statusBefore: Schema.String,
  statusAfter: Schema.String,
  events: Schema.Array(Schema.Struct({ event: Schema.String, data: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })),
  error: Schema.NullOr(Schema.String),
  idempotencyKey: Schema.NullOr(Schema.String),
  startedAt: Schema.Date,
  finishedAt: Schema.Date
}) {}

// A record an upstream made keeps the upstream's ids (ids.ts `IdOwner`); every other field is
// held to acct's schema as acct's own records are.
const UpstreamAccount = Schema.Struct({ ...Account.fields, id: AccountId.upstream, accountTypeId: AccountTypeId.upstream, consolidatedInto: Schema.NullOr(AccountId.upstream) })
const UpstreamActionRun = Schema.Struct({ ...ActionRun.fields, id: ActionRunId.upstream, accountId: AccountId.upstream, actionId: Schema.NullOr(AccountActionId.upstream) })
const validateUpstreamAccount = Schema.validateSync(UpstreamAccount)
const decodeUpstreamActionRun = Schema.decodeUnknownSync(UpstreamActionRun)
const encodeUpstreamAccount = Schema.encodeSync(UpstreamAccount)
const encodeUpstreamActionRun = Schema.encodeSync(UpstreamActionRun)

/** An account an upstream answered: checked as `Account.make` checks acct's own, but for its ids. */
export const upstreamAccount = (props: typeof UpstreamAccount.Type): Account => new Account(validateUpstreamAccount(props), true)

/** A run an upstream reported, from its encoded form (ISO dates): checked as acct's own, but for its ids. */
export const decodeUpstreamRun = (encoded: unknown): ActionRun => new ActionRun(decodeUpstreamActionRun(encoded), true)

/**
 * Any account in its encoded form (ISO dates), whoever made its ids: `Schema.encode(Account)`
 * refuses an upstream's (`ACC-1234-5678`, a Persona id with a dash), and acct's own pass the
 * upstream pattern too, so they come out exactly as `Schema.encode(Account)` gives them.
 */
export const encodeAnyAccount = (account: Account): typeof UpstreamAccount.Encoded => encodeUpstreamAccount(account)

/** Any run in its encoded form, whoever made its ids (as `encodeAnyAccount`). */
export const encodeAnyRun = (run: ActionRun): typeof UpstreamActionRun.Encoded => encodeUpstreamActionRun(run)

/**
 * "activated → disabled", or just the new status where an upstream does not report the old one;
 * `show` dresses each status (e.g. as code in Slack).
 */
export const statusChange = (run: Pick<ActionRun, "statusBefore" | "statusAfter">, show: (status: string) => string = (status) => status) =>
  run.statusBefore === "" ? `now ${show(run.statusAfter)}` : `${show(run.statusBefore)} → ${show(run.statusAfter)}`

/** A page of results and the cursors around it (Persona's `page[after]` / `page[before]`). */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly next: string | null
  readonly prev: string | null
}

/** An `<account>` argument: an `act_…` id when it looks like one, a reference id otherwise. */
export type AccountRef = { readonly id: AccountId } | { readonly referenceId: string }

/** `text` as an AccountRef, its id read as `owner` makes them (ids.ts `IdOwner`). */
export const parseAccountRef = (text: string, owner: IdOwner = "acct", at?: ReadonlyArray<string | number>): Either.Either<AccountRef, InvalidRequest> => {
  const shown = JSON.stringify(text.slice(0, 60))
  if (AccountId.isOf(owner)(text)) return Either.right({ id: text })
  const problem = text.startsWith("act_")
    ? `expected an account id ("act_" followed by ${owner === "acct" ? "24–28 letters or digits" : "the upstream's id, no spaces"}) or a reference id, got ${shown}`
    : Schema.is(ReferenceId)(text)
      ? undefined
      : `expected an account id or a reference id (1–255 characters, no spaces), got ${shown}`
  if (problem === undefined) return Either.right({ referenceId: text })
  // Where the text came from, when the caller says: `meta.source-account-ids[1]: expected …`.
  return Either.left(at === undefined ? new InvalidRequest({ message: problem, issues: [{ path: ["account"], message: problem }] }) : InvalidRequest.fromIssues([{ path: at, message: problem }]))
}
