/**
 * Persona's webhooks API under /api/v1 (`/webhooks`, `/webhooks/{webhook-id}` and its actions),
 * in the shapes of the spec's `webhook`, `webhook-with-secret` and `webhook-request-attributes`
 * schemas. The signing secret appears only in the answers that make one (create, clone,
 * rotate-secret).
 */
import { KeyInflection, type Webhook, type WebhookAttempt, type WebhookChanges, type WebhookSecret, type WebhookWithSecrets } from "@acct/core"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../security.js"
import { MutationHeaders, PageSize } from "./api.js"
import { schemas } from "./errors.js"
import { RUN_CONTEXT_KEY } from "./events.js"
import { fromWebhookResource, toWebhookResource, WebhookAttributes, WebhookResource, WebhookWithSecretResource } from "./webhook-resource.js"

export { fromWebhookResource, toWebhookResource, WebhookAttributes, WebhookResource, WebhookWithSecretResource }

const Strict = { onExcessProperty: "error" } as const

export const toWebhookWithSecretResource = (w: Webhook, secrets: ReadonlyArray<WebhookSecret>): typeof WebhookWithSecretResource.Type => {
  const base = toWebhookResource(w)
  return {
    ...base,
    attributes: {
      ...base.attributes,
      secret: secrets[0]!.value,
      secrets: secrets.map((s) => ({ value: s.value, "expires-at": s.expiresAt ? s.expiresAt.toISOString() : null }))
    }
  }
}

/** A webhook and its secrets from an answer that made one (for clients). */
export const fromWebhookWithSecretResource = (r: typeof WebhookWithSecretResource.Type): WebhookWithSecrets => ({
  webhook: fromWebhookResource(r),
  secrets: r.attributes.secrets.map((s) => ({ value: s.value, expiresAt: s["expires-at"] === null ? null : new Date(s["expires-at"]) }))
})

/** The request's attributes as the port's changes (create and update take the same ones). */
export const fromWebhookRequestAttributes = (a: {
  readonly name?: string | undefined
  readonly url?: string | undefined
  readonly description?: string | null | undefined
  readonly "enabled-events"?: ReadonlyArray<string> | undefined
  readonly "api-key-inflection"?: WebhookChanges["keyInflection"]
  readonly "api-attributes-blocklist"?: ReadonlyArray<string> | undefined
  readonly "api-version"?: string | undefined
}): WebhookChanges => ({
  name: a.name,
  url: a.url,
  description: a.description,
  enabledEvents: a["enabled-events"],
  keyInflection: a["api-key-inflection"],
  attributesBlocklist: a["api-attributes-blocklist"],
  apiVersion: a["api-version"]
})

/** The port's changes as request attributes (for clients); what is left out stays as it is. */
export const toWebhookRequestAttributes = (c: WebhookChanges) => ({
  name: c.name,
  url: c.url,
  description: c.description,
  "enabled-events": c.enabledEvents,
  "api-key-inflection": c.keyInflection,
  "api-attributes-blocklist": c.attributesBlocklist,
  "api-version": c.apiVersion
})

const RequestAttributes = {
  name: Schema.String,
  description: Schema.optional(Schema.NullOr(Schema.String)),
  url: Schema.String,
  "enabled-events": Schema.Array(Schema.String),
  "api-version": Schema.optional(Schema.String),
  "api-key-inflection": Schema.optional(KeyInflection),
  "api-attributes-blocklist": Schema.optional(Schema.Array(Schema.String))
}

export const CreateWebhookBody = Schema.Struct({
  data: Schema.Struct({ attributes: Schema.Struct(RequestAttributes).annotations({ parseOptions: Strict }) }).annotations({ parseOptions: Strict })
}).annotations({ parseOptions: Strict })

export const UpdateWebhookBody = Schema.Struct({
  data: Schema.optional(
    Schema.Struct({
      attributes: Schema.optional(
        Schema.Struct({
          ...RequestAttributes,
          name: Schema.optional(Schema.String),
          url: Schema.optional(Schema.String),
          "enabled-events": Schema.optional(Schema.Array(Schema.String))
        }).annotations({ parseOptions: Strict })
      )
    }).annotations({ parseOptions: Strict })
  )
}).annotations({ parseOptions: Strict })

export const RotateSecretBody = Schema.Struct({
  meta: Schema.optional(
    Schema.Struct({
      "expires-in-seconds": Schema.optional(
        Schema.Number.annotations({ description: "How long the previous secret still signs deliveries (default 86400, at most 30 days)." })
      )
    }).annotations({ parseOptions: Strict })
  )
}).annotations({ parseOptions: Strict })

export const WebhookAttemptResource = Schema.Struct({
  type: Schema.Literal("webhook-attempt"),
  id: Schema.String,
  attributes: Schema.Struct({
    "delivery-id": Schema.String,
    "event-id": Schema.String,
    attempt: Schema.Number,
    "started-at": Schema.String,
    "duration-ms": Schema.Number,
    status: Schema.NullOr(Schema.Number).annotations({ description: "The receiver's HTTP status; null when it gave no answer (see error)." }),
    error: Schema.NullOr(Schema.String),
    response: Schema.NullOr(Schema.String).annotations({ description: "The first KB of the answer's body." })
  })
})
export type WebhookAttemptResource = typeof WebhookAttemptResource.Type

export const WebhookDocument = Schema.Struct({ data: WebhookResource })
export const WebhookWithSecretDocument = Schema.Struct({ data: WebhookWithSecretResource })
export const WebhookList = Schema.Struct({
  data: Schema.Array(WebhookResource),
  links: Schema.Struct({ prev: Schema.NullOr(Schema.String), next: Schema.NullOr(Schema.String) })
})

const webhookId = HttpApiSchema.param("webhookId", Schema.String)

const WebhookPath = Schema.Struct({ webhookId: Schema.String })

const action = <const Name extends string>(name: Name, path: "enable" | "disable" | "archive", summary: string, description: string) =>
  HttpApiEndpoint.post(name, `/webhooks/:webhookId/${path}`)
    .setPath(WebhookPath)
    .setHeaders(MutationHeaders)
    .addSuccess(WebhookDocument)
    .addError(schemas.NotFound)
    .addError(schemas.Conflict)
    .annotate(OpenApi.Summary, summary)
    .annotate(OpenApi.Description, description)

export class WebhooksApi extends HttpApiGroup.make("webhooks")
  .add(
    HttpApiEndpoint.get("listWebhooks", "/webhooks")
      .setUrlParams(Schema.Struct({ "page[after]": Schema.optional(Schema.String), "page[before]": Schema.optional(Schema.String), "page[size]": Schema.optional(PageSize) }))
      .addSuccess(WebhookList)
      .annotate(OpenApi.Summary, "List all webhooks")
      .annotate(OpenApi.Description, "Newest first, in cursor pages like the accounts list. Needs scope webhook.read.")
  )
  .add(
    HttpApiEndpoint.post("createWebhook", "/webhooks")
      .setHeaders(MutationHeaders)
      .setPayload(CreateWebhookBody)
      .addSuccess(WebhookWithSecretDocument, { status: 201 })
      .addError(schemas.Conflict)
      .addError(schemas.Unprocessable)
      .annotate(OpenApi.Summary, "Create a webhook")
      .annotate(
        OpenApi.Description,
        "Starts disabled (enable it to receive events). The answer holds the signing secret, shown this once. The URL must be https (http only for hosts in ACCT_WEBHOOK_ALLOWED_HOSTS) and resolve to public addresses. Needs scope webhook.write."
      )
  )
  .add(
    HttpApiEndpoint.get("getWebhook")`/webhooks/${webhookId}`
      .addSuccess(WebhookDocument)
      .addError(schemas.NotFound)
      .annotate(OpenApi.Summary, "Retrieve a webhook")
      .annotate(OpenApi.Description, "Without its secret (shown only when made). Needs scope webhook.read.")
  )
  .add(
    HttpApiEndpoint.patch("updateWebhook")`/webhooks/${webhookId}`
      .setHeaders(MutationHeaders)
      .setPayload(UpdateWebhookBody)
      .addSuccess(WebhookDocument)
      .addError(schemas.NotFound)
      .addError(schemas.Conflict)
      .addError(schemas.Unprocessable)
      .annotate(OpenApi.Summary, "Update a webhook")
  )
  .add(action("enableWebhook", "enable", "Enable a webhook", "Events committed from now on are delivered to it."))
  .add(action("disableWebhook", "disable", "Disable a webhook", "No new deliveries; those under way are dropped."))
  .add(action("archiveWebhook", "archive", "Archive a webhook", "Disables it for good: an archived webhook cannot be changed or enabled."))
  .add(
    HttpApiEndpoint.post("cloneWebhook")`/webhooks/${webhookId}/clone`
      .setHeaders(MutationHeaders)
      .addSuccess(WebhookWithSecretDocument)
      .addError(schemas.NotFound)
      .annotate(OpenApi.Summary, "Clone a webhook")
      .annotate(OpenApi.Description, "A new, disabled webhook with the same settings and its own secret (shown this once).")
  )
  .add(
    HttpApiEndpoint.post("rotateWebhookSecret")`/webhooks/${webhookId}/rotate-secret`
      .setHeaders(MutationHeaders)
      .setPayload(RotateSecretBody)
      .addSuccess(WebhookWithSecretDocument)
      .addError(schemas.NotFound)
      .addError(schemas.Conflict)
      .annotate(OpenApi.Summary, "Rotate a webhook secret")
      .annotate(
        OpenApi.Description,
        "A new secret (shown this once). The previous one keeps signing for meta.expires-in-seconds (default 86400): meanwhile Persona-Signature carries two t=…,v1=… pairs and webhook-signature two v1,… entries."
      )
  )
  .add(
    HttpApiEndpoint.get("listWebhookAttempts")`/webhooks/${webhookId}/attempts`
      .setUrlParams(Schema.Struct({ "page[size]": Schema.optional(PageSize) }))
      .addSuccess(Schema.Struct({ data: Schema.Array(WebhookAttemptResource) }))
      .addError(schemas.NotFound)
      .annotate(OpenApi.Summary, "List a webhook's delivery attempts (acct extension)")
      .annotate(OpenApi.Description, "Newest first (page[size] 1–100, default 10): when, the status or why there was none, how long it took, the first KB of the answer. Needs scope webhook.read.")
  )
  .prefix("/api/v1")
  .middleware(Authentication)
  .addError(schemas.Forbidden)
  .addError(schemas.TooManyRequests)
  .addError(schemas.Unavailable)
  .annotate(OpenApi.Title, "Webhooks (Persona-compatible)") {}

const globToRegExp = (glob: string) => new RegExp(`^${glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`)

const dropKeys = (value: unknown, matches: (key: string) => boolean): unknown => {
  if (Array.isArray(value)) return value.map((item) => dropKeys(item, matches))
  if (typeof value !== "object" || value === null) return value
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (matches(k) ? [] : [[k, dropKeys(v, matches)]])))
}

const dropPath = (value: unknown, segments: ReadonlyArray<RegExp>): unknown => {
  if (segments.length === 0 || typeof value !== "object" || value === null) return value
  const [head, ...rest] = segments
  if (Array.isArray(value)) return value.map((item, i) => (head!.test(String(i)) ? (rest.length === 0 ? undefined : dropPath(item, rest)) : item)).filter((item) => item !== undefined)
  return Object.fromEntries(
    Object.entries(value).flatMap(([k, v]) => (head!.test(k) ? (rest.length === 0 ? [] : [[k, dropPath(v, rest)]]) : [[k, v]]))
  )
}

/**
 * A webhook body without the endpoint's blocklisted attributes (Persona's attribute blocklist),
 * applied to the event's payload before key inflection: a name (`name-last`, `address-*`,
 * `email_address`) removes that key anywhere in the payload's attributes, fields included, and
 * in acct's account of a run (`context["workflow-run"]`: its parameters); a path
 * (`/data/attributes/fields/*-number`, relative to the payload) removes what it points at.
 * `*` matches any characters within a key.
 */
export const applyBlocklist = <
  D extends { readonly data: { readonly attributes: { readonly payload: { readonly data: { readonly attributes: unknown } }; readonly context: Record<string, unknown> } } }
>(document: D, blocklist: ReadonlyArray<string>): D => {
  if (blocklist.length === 0) return document
  let payload: unknown = document.data.attributes.payload
  let context = document.data.attributes.context
  const names = blocklist.filter((entry) => !entry.startsWith("/")).map(globToRegExp)
  for (const path of blocklist.filter((entry) => entry.startsWith("/"))) {
    payload = dropPath(payload, path.split("/").slice(1).filter((s) => s !== "").map(globToRegExp))
  }
  if (names.length > 0) {
    const blocked = (key: string) => names.some((n) => n.test(key))
    const data = (payload as { data: { attributes: unknown } }).data
    payload = { ...(payload as object), data: { ...data, attributes: dropKeys(data.attributes, blocked) } }
    if (context[RUN_CONTEXT_KEY] !== undefined) context = { ...context, [RUN_CONTEXT_KEY]: dropKeys(context[RUN_CONTEXT_KEY], blocked) }
  }
  return { ...document, data: { ...document.data, attributes: { ...document.data.attributes, payload, context } } }
}

/** An attempt as the attempts list answers it. */
export const toWebhookAttemptResource = (a: WebhookAttempt): WebhookAttemptResource => ({
  type: "webhook-attempt",
  id: `${a.deliveryId}.${a.attempt}`,
  attributes: {
    "delivery-id": a.deliveryId,
    "event-id": a.eventId,
    attempt: a.attempt,
    "started-at": a.startedAt.toISOString(),
    "duration-ms": a.durationMs,
    status: a.status,
    error: a.error,
    response: a.response
  }
})

/** An attempt from the attempts list (for clients). */
export const fromWebhookAttemptResource = (webhookId: string, r: WebhookAttemptResource): WebhookAttempt => ({
  deliveryId: r.attributes["delivery-id"],
  webhookId,
  eventId: r.attributes["event-id"],
  attempt: r.attributes.attempt,
  startedAt: new Date(r.attributes["started-at"]),
  durationMs: r.attributes["duration-ms"],
  status: r.attributes.status,
  error: r.attributes.error,
  response: r.attributes.response
})
