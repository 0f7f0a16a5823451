/**
 * Events: what every committed change tells the world (Persona's account events, workflow runs,
 * the catalog's own `emit-event` names). The store writes them in the change's transaction, so
 * an event exists if and only if its change committed; the pure functions here decide which
 * events a change makes. Domain data only: the API serializes them (Persona's `event` resource).
 */
import { Context, type Effect, Schema } from "effect"
import { Account, ActionRun, type Page } from "./account.js"
import type { PageQuery } from "./accounts.js"
import type { EmittedEvent } from "./engine.js"
import type { AccountsError } from "./errors.js"
import { AccountId, ActionRunId, idSchema } from "./ids.js"
import { Actor, Channel } from "./principal.js"
import { Webhook } from "./webhooks.js"

export const EventId = idSchema("evt", "EventId", "an event")
export type EventId = typeof EventId.Type

/** Persona's account event names, plus `workflow-run.created` for a committed run. */
export const EVENT_NAMES = {
  created: "account.created",
  redacted: "account.redacted",
  archived: "account.archived",
  consolidated: "account.consolidated",
  consolidatedWith: "account.consolidated-with",
  tagAdded: "account.tag-added",
  tagRemoved: "account.tag-removed",
  updatedTags: "account.updated-tags",
  updatedFields: "account.updated-fields",
  statusUpdated: "account.status-updated",
  addedRelation: "account.added-relation",
  removedRelation: "account.removed-relation",
  runCreated: "workflow-run.created"
} as const

/**
 * What an event says beyond its object: what changed, through which run, by whom. Every key is
 * optional; the API writes them kebab-cased (`addedTags` → `added-tags`, Persona's names).
 */
export const EventContext = Schema.Struct({
  /** Who made the change and through which app (filled in by the store's mutation frame). */
  actor: Schema.optional(Actor),
  channel: Schema.optional(Channel),
  requestId: Schema.optional(Schema.String),
  /** The run (`wfr_…`) the change is part of: an action or a lifecycle operation. */
  workflowRunId: Schema.optional(ActionRunId),
  /** account.tag-added / account.tag-removed: the tag. */
  tagName: Schema.optional(Schema.String),
  /** account.updated-tags: everything one change added and removed. */
  addedTags: Schema.optional(Schema.Array(Schema.String)),
  removedTags: Schema.optional(Schema.Array(Schema.String)),
  /** account.status-updated. */
  statusBefore: Schema.optional(Schema.String),
  statusAfter: Schema.optional(Schema.String),
  /** account.updated-fields: the keys of the fields that changed. */
  updatedFields: Schema.optional(Schema.Array(Schema.String)),
  /** account.updated-fields: the reference id before, when the change replaced it. */
  referenceIdBefore: Schema.optional(Schema.NullOr(Schema.String)),
  /** account.consolidated / account.archived (on a source): the destination. */
  consolidatedInto: Schema.optional(AccountId),
  /** account.consolidated-with (on the destination): the sources. */
  sourceAccountIds: Schema.optional(Schema.Array(AccountId)),
  /** account.added-relation / account.removed-relation (Persona's context keys). */
  relationSchemaKey: Schema.optional(Schema.String),
  targetAccountId: Schema.optional(Schema.NullOr(Schema.String)),
  targetTxnId: Schema.optional(Schema.NullOr(Schema.String)),
  /** A catalog `emit-event` step's data (its keys are the catalog's, kept as written). */
  data: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})
export type EventContext = typeof EventContext.Type

/** The object an event is about, as the domain knows it; its type names the API resource. */
export const EventObject = Schema.Union(
  Schema.TaggedStruct("account", { value: Account }),
  Schema.TaggedStruct("workflow-run", { value: ActionRun }),
  /** acct's own: a webhook endpoint acct changed by itself (disabled after 410 or 5 days of failures). */
  Schema.TaggedStruct("webhook", { value: Webhook })
)
export type EventObject = typeof EventObject.Type

export class AcctEvent extends Schema.Class<AcctEvent>("AcctEvent")({
  id: EventId,
  /** Commit order: strictly increasing, with gaps (see the store's EventFeed). */
  seq: Schema.Number,
  name: Schema.String,
  /** The object as it was right after the change. */
  object: EventObject,
  /** The account the event concerns (a run's account too), for filters and redaction. */
  accountId: Schema.NullOr(AccountId),
  createdAt: Schema.Date,
  context: EventContext
}) {}

/** An event a change makes, before the store gives it an id, a seq and a time. */
export interface NewEvent {
  readonly name: string
  readonly object: EventObject
  readonly context?: EventContext | undefined
}

export const objectId = (object: EventObject): string => object.value.id
export const objectAccountId = (object: EventObject): AccountId | null =>
  object._tag === "account" ? object.value.id : object._tag === "workflow-run" ? object.value.accountId : null

const accountEvent = (name: string, account: Account, context: EventContext = {}): NewEvent => ({ name, object: { _tag: "account", value: account }, context })

const sameJson = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b)

/** The fields whose values differ (none when the change kept the same fields object: a status change, a tag). */
const changedFieldKeys = (before: Account["fields"], after: Account["fields"]): Array<string> =>
  before === after ? [] : [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !sameJson(before[k], after[k]))

/**
 * The events of one change of an account, from its state before (undefined: it was created) and
 * after: created or redacted; per-tag events plus one `account.updated-tags` for the whole tag
 * change; the status; the fields (and reference id). Nothing changed, nothing said.
 */
export const accountChangeEvents = (before: Account | undefined, after: Account, context: EventContext = {}): ReadonlyArray<NewEvent> => {
  if (before === undefined) return [accountEvent(EVENT_NAMES.created, after, context)]
  const events: Array<NewEvent> = []
  if (before.redactedAt === null && after.redactedAt !== null) events.push(accountEvent(EVENT_NAMES.redacted, after, context))
  const added = after.tags.filter((t) => !before.tags.includes(t))
  const removed = before.tags.filter((t) => !after.tags.includes(t))
  for (const tag of added) events.push(accountEvent(EVENT_NAMES.tagAdded, after, { ...context, tagName: tag }))
  for (const tag of removed) events.push(accountEvent(EVENT_NAMES.tagRemoved, after, { ...context, tagName: tag }))
  if (added.length > 0 || removed.length > 0) events.push(accountEvent(EVENT_NAMES.updatedTags, after, { ...context, addedTags: added, removedTags: removed }))
  if (before.status !== after.status) events.push(accountEvent(EVENT_NAMES.statusUpdated, after, { ...context, statusBefore: before.status, statusAfter: after.status }))
  // A redaction's wiped fields are said by account.redacted, not again as an update.
  if (after.redactedAt === null || before.redactedAt !== null) {
    const updatedFields = changedFieldKeys(before.fields, after.fields)
    const referenceChanged = before.referenceId !== after.referenceId
    if (updatedFields.length > 0 || referenceChanged) {
      events.push(accountEvent(EVENT_NAMES.updatedFields, after, { ...context, updatedFields, ...(referenceChanged ? { referenceIdBefore: before.referenceId } : {}) }))
    }
  }
  return events
}

/** A consolidation source: consolidated into the destination, and so archived. */
export const consolidatedSourceEvents = (source: Account, destination: AccountId): ReadonlyArray<NewEvent> => [
  accountEvent(EVENT_NAMES.consolidated, source, { consolidatedInto: destination }),
  accountEvent(EVENT_NAMES.archived, source, { consolidatedInto: destination })
]

/** The destination of a consolidation: consolidated-with its sources, then what it gained. */
export const consolidationEvents = (before: Account, after: Account, sources: ReadonlyArray<AccountId>): ReadonlyArray<NewEvent> => [
  accountEvent(EVENT_NAMES.consolidatedWith, after, { sourceAccountIds: sources }),
  ...accountChangeEvents(before, after)
]

/**
 * A committed run: `workflow-run.created`, the account's changes, and the action's `emit-event`
 * steps under their own names (their data in the context). All name the run.
 */
export const runEvents = (run: ActionRun, before: Account, after: Account, emitted: ReadonlyArray<EmittedEvent>): ReadonlyArray<NewEvent> => {
  const context = { workflowRunId: run.id }
  return [
    { name: EVENT_NAMES.runCreated, object: { _tag: "workflow-run", value: run }, context },
    ...accountChangeEvents(before, after, context),
    ...emitted.map((e) => accountEvent(e.event, after, { ...context, data: e.data }))
  ]
}

/** A relation added to or removed from an account (for the relations operations). */
export const relationEvent = (
  change: "added" | "removed",
  account: Account,
  relation: { readonly key: string; readonly targetAccountId?: string | null | undefined; readonly targetTxnId?: string | null | undefined }
): NewEvent =>
  accountEvent(change === "added" ? EVENT_NAMES.addedRelation : EVENT_NAMES.removedRelation, account, {
    relationSchemaKey: relation.key,
    targetAccountId: relation.targetAccountId ?? null,
    targetTxnId: relation.targetTxnId ?? null
  })

/** The events list: newest first, Persona's filters (each a list: any of) plus acct's. */
export interface ListEventsQuery extends PageQuery {
  readonly names?: ReadonlyArray<string> | undefined
  readonly ids?: ReadonlyArray<string> | undefined
  /** The object's id (an account's `act_…`, a run's `wfr_…`). */
  readonly objectIds?: ReadonlyArray<string> | undefined
  readonly objectType?: string | undefined
  /** Every event about the account, its runs' included (acct extension). */
  readonly accountId?: AccountId | undefined
  /** Events created at or after this time. */
  readonly since?: Date | undefined
}

/**
 * Reading events: the store answers from its table, the HTTP client from a server. Reads carry
 * no principal: the edges check the `events` rule of the policy before they call.
 */
export interface EventsService {
  readonly list: (query: ListEventsQuery) => Effect.Effect<Page<AcctEvent>, AccountsError>
  readonly get: (id: EventId) => Effect.Effect<AcctEvent, AccountsError>
}

export class Events extends Context.Tag("@acct/core/Events")<Events, EventsService>() {}
