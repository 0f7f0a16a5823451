/** The Webhooks port on the store of `database`: SQL rows, the secrets' keyring, the SSRF guard. */
import type { Webhooks } from "@acct/core"
import { SqlWebhooksLive, WebhookKeyringLive } from "@acct/store-sql"
import type { SqlClient } from "@effect/sql"
import { Layer } from "effect"
import { WebhookUrlGuardLive } from "./network.js"

export const webhooksLayer = (database: string): Layer.Layer<Webhooks, never, SqlClient.SqlClient> =>
  SqlWebhooksLive.pipe(Layer.provide([WebhookKeyringLive(database), WebhookUrlGuardLive]))
