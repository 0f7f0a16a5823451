/**
 * The webhooks ports on the store of `database`: the endpoints (SQL rows, the secrets' keyring,
 * the SSRF guard), their stored secrets, the delivery log with replays, and the notice of a
 * changed endpoint for this process's dispatcher.
 */
import type { Events, WebhookDeliveries, Webhooks, WebhookSecrets } from "@acct/core"
import { EndpointChanges, SqlWebhooksLive, WebhookKeyringLive } from "@acct/store-sql"
import type { SqlClient } from "@effect/sql"
import { Layer } from "effect"
import { WebhookDeliveriesLive } from "./deliveries.js"
import { WebhookUrlGuardLive } from "./network.js"

export const webhooksLayer = (database: string): Layer.Layer<Webhooks | WebhookSecrets | WebhookDeliveries | EndpointChanges, never, SqlClient.SqlClient | Events> =>
  WebhookDeliveriesLive.pipe(
    Layer.provideMerge(SqlWebhooksLive.pipe(Layer.provide([WebhookKeyringLive(database), WebhookUrlGuardLive]))),
    Layer.provideMerge(EndpointChanges.Default)
  )
