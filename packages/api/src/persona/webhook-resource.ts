/**
 * Persona's `webhook` resource, apart from the webhooks API module so that the events module
 * can serialize an event about a webhook without importing the API definitions.
 */
import { Webhook, type WebhookId } from "@acct/core"
import { Schema } from "effect"

export const WebhookAttributes = Schema.Struct({
  status: Schema.String,
  url: Schema.String,
  name: Schema.NullOr(Schema.String),
  description: Schema.NullOr(Schema.String),
  "api-version": Schema.String,
  "api-key-inflection": Schema.String,
  "api-attributes-blocklist": Schema.Array(Schema.String),
  "enabled-events": Schema.Array(Schema.String),
  "payload-filter": Schema.NullOr(Schema.Object),
  "created-at": Schema.String
})

export const WebhookResource = Schema.Struct({ type: Schema.Literal("webhook"), id: Schema.String, attributes: WebhookAttributes })
export type WebhookResource = typeof WebhookResource.Type

export const WebhookWithSecretResource = Schema.Struct({
  type: Schema.Literal("webhook"),
  id: Schema.String,
  attributes: Schema.Struct({
    ...WebhookAttributes.fields,
    secret: Schema.String.annotations({ description: "The current secret (deprecated by Persona in favour of secrets)." }),
    secrets: Schema.Array(Schema.Struct({ value: Schema.String, "expires-at": Schema.NullOr(Schema.String) }))
  })
})

export const toWebhookResource = (w: Webhook): WebhookResource => ({
  type: "webhook",
  id: w.id,
  attributes: {
    status: w.status,
    url: w.url,
    name: w.name,
    description: w.description,
    "api-version": w.apiVersion,
    "api-key-inflection": w.keyInflection,
    "api-attributes-blocklist": w.attributesBlocklist,
    "enabled-events": w.enabledEvents,
    "payload-filter": null,
    "created-at": w.createdAt.toISOString()
  }
})

/** A webhook from its resource (a client reading an event about one): acct-only fields come back empty. */
export const fromWebhookResource = (r: WebhookResource): Webhook =>
  Webhook.make({
  id: r.id as WebhookId,
  name: r.attributes.name ?? "",
  url: r.attributes.url,
  description: r.attributes.description,
  status: r.attributes.status as Webhook["status"],
  enabledEvents: r.attributes["enabled-events"],
  keyInflection: r.attributes["api-key-inflection"] as Webhook["keyInflection"],
  attributesBlocklist: r.attributes["api-attributes-blocklist"],
  apiVersion: r.attributes["api-version"],
  createdAt: new Date(r.attributes["created-at"]),
  updatedAt: new Date(r.attributes["created-at"]),
  failingSince: null,
  disabledReason: null
})
