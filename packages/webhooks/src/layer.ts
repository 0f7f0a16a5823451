/**
 * The webhooks ports on the store of `database`: the endpoints (SQL rows, the secrets' keyring,
 * the SSRF guard), their stored secrets, and the delivery log with replays.
 */
import type { Events, WebhookDeliveries, Webhooks, WebhookSecrets } from "@acct/core"
import { SqlWebhooksLive, WebhookKeyringLive } from "@acct/store-sql"
import type { SqlClient } from "@effect/sql"
import { Layer } from "effect"
import { WebhookDeliveriesLive } from "./deliveries.js"
import { WebhookUrlGuardLive } from "./network.js"

export const webhooksLayer = (database: string): Layer.Layer<Webhooks | WebhookSecrets | WebhookDeliveries, never, SqlClient.SqlClient | Events> =>
  WebhookDeliveriesLive.pipe(Layer.provideMerge(SqlWebhooksLive.pipe(Layer.provide([WebhookKeyringLive(database), WebhookUrlGuardLive]))))
