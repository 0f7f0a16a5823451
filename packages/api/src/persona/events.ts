/**
 * Persona's `event` resource: `{ type: "event", id: "evt_…", attributes: { name, created-at,
 * payload: { data: <the object as this API serializes it> }, context } }`, the same body for the
 * events API and for webhook deliveries. Context keys are kebab-cased (`added-tags`); the data
 * a catalog's `emit-event` step carries keeps the catalog's own keys.
 */
import { AcctEvent, type EventContext, type EventObject, objectAccountId } from "@acct/core"
import { Schema } from "effect"
import { fromWebhookResource, toWebhookResource, WebhookResource } from "./webhook-resource.js"
import { AccountResource, fromAccountResource, fromWorkflowRunResource, toAccountResource, toWorkflowRunResource, WorkflowRunResource } from "./resources.js"

export const EventResource = Schema.Struct({
  type: Schema.Literal("event"),
  id: Schema.String,
  attributes: Schema.Struct({
    name: Schema.String,
    "created-at": Schema.String,
    payload: Schema.Struct({ data: Schema.Union(AccountResource, WorkflowRunResource, WebhookResource) }),
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
  object._tag === "account" ? toAccountResource(object.value) : object._tag === "workflow-run" ? toWorkflowRunResource(object.value) : toWebhookResource(object.value)

export const toEventResource = (event: AcctEvent): EventResource => ({
  type: "event",
  id: event.id,
  attributes: {
    name: event.name,
    "created-at": event.createdAt.toISOString(),
    payload: { data: toObjectResource(event.object) },
    context: toWireContext(event.context)
  }
})

/**
 * An event from a server's answer (for clients). The wire carries no seq (a remote event's is
 * 0) and no link from a run to anything but its account.
 */
export const fromEventResource = (r: EventResource): AcctEvent => {
  const data = r.attributes.payload.data
  const object: EventObject =
    data.type === "account"
      ? { _tag: "account", value: fromAccountResource(data) }
      : data.type === "workflow-run"
        ? { _tag: "workflow-run", value: fromWorkflowRunResource(data) }
        : { _tag: "webhook", value: fromWebhookResource(data) }
  return new AcctEvent({
    id: r.id as AcctEvent["id"],
    seq: 0,
    name: r.attributes.name,
    object,
    accountId: objectAccountId(object),
    createdAt: new Date(r.attributes["created-at"]),
    context: Object.fromEntries(Object.entries(r.attributes.context).map(([k, v]) => [camel(k), v])) as EventContext
  })
}
