/**
 * Persona's `event` resource: `{ type: "event", id: "evt_…", attributes: { name, created-at,
 * payload: { data: <the object as this API serializes it> }, context } }`, the same body for the
 * events API and for webhook deliveries. Context keys are kebab-cased (`added-tags`); the data
 * a catalog's `emit-event` step carries keeps the catalog's own keys.
 *
 * An event Persona names has the body Persona's webhook schema for that name says, so a receiver
 * written against Persona's spec (a strict validator included) takes it: `workflow-run.created`
 * carries Persona's workflow-run (status, created-at, completed-at), and acct's account of the
 * run — action, actor, parameters, statuses — in `context["workflow-run"]` (Persona leaves
 * context open), where the attribute blocklist applies too. acct's own names (webhook.disabled,
 * a catalog's emit-event names) are documented in acct's OpenAPI (`webhooks`, see acctWebhooks).
 */
import { AccountId, AcctEvent, type EventContext, EventId, type EventObject, InvalidRequest, type ListEventsQuery, objectAccountId } from "@acct/core"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Either, Schema } from "effect"
import { Authentication } from "../security.js"
import { PageSize } from "./api.js"
import { schemas } from "./errors.js"
import { fromWebhookResource, toWebhookResource, WebhookResource } from "./webhook-resource.js"
import { AccountResource, fromAccountResource, fromWorkflowRunResource, toAccountResource, toWorkflowRunResource, WorkflowRunResource } from "./resources.js"

/** Persona's `workflow-run` resource: what its webhook schema allows, no more. */
export const EventWorkflowRun = Schema.Struct({
  type: Schema.Literal("workflow-run"),
  id: Schema.String,
  attributes: Schema.Struct({ status: Schema.String, "created-at": Schema.String, "completed-at": Schema.NullOr(Schema.String) })
})

/** Where a workflow-run event carries acct's account of the run (its workflow-run resource's attributes). */
export const RUN_CONTEXT_KEY = "workflow-run"

export const EventResource = Schema.Struct({
  type: Schema.Literal("event"),
  id: Schema.String,
  attributes: Schema.Struct({
    name: Schema.String,
    "created-at": Schema.String,
    payload: Schema.Struct({ data: Schema.Union(AccountResource, EventWorkflowRun, WebhookResource) }),
    context: Schema.Record({ key: Schema.String, value: Schema.Unknown })
  })
})
export type EventResource = typeof EventResource.Type

export const EventDocument = Schema.Struct({ data: EventResource })
export const EventList = Schema.Struct({
  data: Schema.Array(EventResource),
  links: Schema.Struct({ prev: Schema.NullOr(Schema.String), next: Schema.NullOr(Schema.String) })
})

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
const camel = (key: string) => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

/** The domain context on the wire: top-level keys kebab-cased, values as they are. */
export const toWireContext = (context: EventContext): Record<string, unknown> =>
  Object.fromEntries(Object.entries(context).flatMap(([k, v]) => (v === undefined ? [] : [[kebab(k), v]])))

const toObjectResource = (object: EventObject) =>
  object._tag === "account"
    ? toAccountResource(object.value)
    : object._tag === "workflow-run"
      ? ({
          type: "workflow-run",
          id: object.value.id,
          attributes: { status: object.value.status, "created-at": object.value.startedAt.toISOString(), "completed-at": object.value.finishedAt.toISOString() }
        } as const)
      : toWebhookResource(object.value)

export const toEventResource = (event: AcctEvent): EventResource => ({
  type: "event",
  id: event.id,
  attributes: {
    name: event.name,
    "created-at": event.createdAt.toISOString(),
    payload: { data: toObjectResource(event.object) },
    context: {
      ...toWireContext(event.context),
      ...(event.object._tag === "workflow-run" ? { [RUN_CONTEXT_KEY]: toWorkflowRunResource(event.object.value).attributes } : {})
    }
  }
})

/**
 * An event from a server's answer (for clients). The wire carries no seq (a remote event's is
 * 0) and no link from a run to anything but its account.
 */
export const fromEventResource = (r: EventResource): AcctEvent => {
  const data = r.attributes.payload.data
  const { [RUN_CONTEXT_KEY]: run, ...context } = r.attributes.context
  const object: EventObject =
    data.type === "account"
      ? { _tag: "account", value: fromAccountResource(data) }
      : data.type === "workflow-run"
        ? { _tag: "workflow-run", value: fromWorkflowRunResource(Schema.decodeUnknownSync(WorkflowRunResource)({ type: "workflow-run", id: data.id, attributes: run })) }
        : { _tag: "webhook", value: fromWebhookResource(data) }
  return new AcctEvent({
    id: r.id as AcctEvent["id"],
    seq: 0,
    name: r.attributes.name,
    object,
    accountId: objectAccountId(object),
    createdAt: new Date(r.attributes["created-at"]),
    context: Object.fromEntries(Object.entries(context).map(([k, v]) => [camel(k), v])) as EventContext
  })
}

// ---- the events API ------------------------------------------------------------------------

const list = (description: string) => Schema.optional(Schema.String.annotations({ description }))

/** Persona's `filter[name|object-id|id]` (comma-separated lists) and acct's extensions. */
export const ListEventsParams = Schema.Struct({
  "page[after]": Schema.optional(Schema.String),
  "page[before]": Schema.optional(Schema.String),
  "page[size]": Schema.optional(PageSize),
  "filter[name]": list("Comma separated list of event names"),
  "filter[object-id]": list("Comma separated list of object ids (act_…, wfr_…)"),
  "filter[id]": list("Comma separated list of event ids"),
  "filter[object-type]": list("acct extension: only events about objects of this type (account, workflow-run)"),
  "filter[account-id]": list("acct extension: every event about this account (act_…), its runs' included"),
  "filter[created-at-start]": list("acct extension: only events created at or after this ISO 8601 time")
})
export type ListEventsParams = typeof ListEventsParams.Encoded

const items = (text: string | undefined) => (text === undefined ? undefined : text.split(",").map((s) => s.trim()).filter((s) => s !== ""))

const bad = (parameter: string, message: string) => Either.left(new InvalidRequest({ message: `${parameter}: ${message}`, issues: [{ path: [parameter], message }] }))

/** An ISO 8601 time given in `parameter`; a malformed one says what was expected and what came. */
const isoTime = (parameter: string, text: string): Either.Either<Date, InvalidRequest> => {
  const at = new Date(text)
  return Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(text)
    ? bad(parameter, `expected an ISO 8601 time such as 2026-12-01T09:30:00Z, got ${JSON.stringify(text.slice(0, 60))}`)
    : Either.right(at)
}

/** The query a request's parameters ask for; a malformed account id or time says which and why. */
export const toListEventsQuery = (params: typeof ListEventsParams.Type): Either.Either<ListEventsQuery, InvalidRequest> => {
  const accountId = params["filter[account-id]"]
  if (accountId !== undefined && !AccountId.is(accountId)) return bad("filter[account-id]", `expected an account id ("act_" followed by 24–28 letters or digits), got ${JSON.stringify(accountId.slice(0, 60))}`)
  const start = params["filter[created-at-start]"]
  const parsed = start === undefined ? Either.right(undefined) : isoTime("filter[created-at-start]", start)
  if (Either.isLeft(parsed)) return Either.left(parsed.left)
  const since = parsed.right
  return Either.right({
    after: params["page[after]"],
    before: params["page[before]"],
    size: params["page[size]"],
    names: items(params["filter[name]"]),
    objectIds: items(params["filter[object-id]"]),
    ids: items(params["filter[id]"]),
    objectType: params["filter[object-type]"],
    accountId,
    since
  })
}

/** The request parameters for a query (for clients). */
export const toListEventsParams = (query: ListEventsQuery): typeof ListEventsParams.Type => ({
  "page[after]": query.after,
  "page[before]": query.before,
  "page[size]": query.size,
  "filter[name]": query.names?.join(","),
  "filter[object-id]": query.objectIds?.join(","),
  "filter[id]": query.ids?.join(","),
  "filter[object-type]": query.objectType,
  "filter[account-id]": query.accountId,
  "filter[created-at-start]": query.since?.toISOString()
})

// ---- replays (acct extension) ----------------------------------------------------------------

const Strict = { onExcessProperty: "error" } as const
const webhookIdMeta = Schema.optional(Schema.String.annotations({ description: "Only to this webhook (wbh_…), whether or not it wants the event; else to every enabled webhook that does." }))

export const ReplayEventBody = Schema.Struct({ meta: Schema.optional(Schema.Struct({ "webhook-id": webhookIdMeta }).annotations({ parseOptions: Strict })) }).annotations({ parseOptions: Strict })
export const ReplayEventsBody = Schema.Struct({
  meta: Schema.Struct({
    "created-at-start": Schema.String.annotations({ description: "Every event created at or after this ISO 8601 time." }),
    "webhook-id": webhookIdMeta
  }).annotations({ parseOptions: Strict })
}).annotations({ parseOptions: Strict })
export const ReplayAnswer = Schema.Struct({
  meta: Schema.Struct({ events: Schema.Number, deliveries: Schema.Number.annotations({ description: "Deliveries queued: the dispatcher sends them, with the same webhook-id as the first time." }) })
})

/** `meta.created-at-start` of a replay as a time; a malformed one says what was expected. */
export const replaySince = (text: string) => isoTime("meta.created-at-start", text)

export class EventsApi extends HttpApiGroup.make("events")
  .add(
    HttpApiEndpoint.get("listEvents", "/events")
      .setUrlParams(ListEventsParams)
      .addSuccess(EventList)
      .annotate(OpenApi.Summary, "List all Events")
      .annotate(
        OpenApi.Description,
        "Every committed change's events, newest first: Persona's account events, workflow-run.created, and the catalog's emit-event names. Cursor pages as for accounts (page[after|before] are event ids). Events older than the retention period (ACCT_EVENT_RETENTION, default 90 days) are gone."
      )
  )
  .add(
    HttpApiEndpoint.get("getEvent")`/events/${HttpApiSchema.param("eventId", EventId)}`
      .addSuccess(EventDocument)
      .addError(schemas.NotFound)
      .annotate(OpenApi.Summary, "Retrieve an Event")
  )
  .add(
    HttpApiEndpoint.post("replayEvent")`/events/${HttpApiSchema.param("eventId", EventId)}/replay`
      .setPayload(ReplayEventBody)
      .addSuccess(ReplayAnswer, { status: 202 })
      .addError(schemas.NotFound)
      .annotate(OpenApi.Summary, "Replay an Event (acct extension)")
      .annotate(OpenApi.Description, "Delivers the event again to every enabled webhook that wants it, or to meta.webhook-id. Needs scope webhook.write.")
  )
  .add(
    HttpApiEndpoint.post("replayEvents", "/events/replay")
      .setPayload(ReplayEventsBody)
      .addSuccess(ReplayAnswer, { status: 202 })
      .addError(schemas.NotFound)
      .annotate(OpenApi.Summary, "Replay every Event since a time (acct extension)")
      .annotate(OpenApi.Description, "Delivers every event created at or after meta.created-at-start again (at most 100,000), oldest first, to the webhooks that want them or to meta.webhook-id. Needs scope webhook.write.")
  )
  .prefix("/api/v1")
  .middleware(Authentication)
  .addError(schemas.Forbidden)
  .addError(schemas.TooManyRequests)
  .addError(schemas.Unavailable)
  .annotate(OpenApi.Title, "Events") {}
