import { Webhooks, WebhookSecrets } from "@acct/core"
import { SqliteStore } from "@acct/store-sql"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Clock, ConfigProvider, Effect, Layer } from "effect"
import { mkdtempSync, readFileSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { webhooksLayer } from "../src/index.js"

const store = (database: string, env: Record<string, string> = {}) =>
  webhooksLayer(database).pipe(
    Layer.provideMerge(SqliteStore({ filename: database })),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({ ACCT_WEBHOOK_ALLOWED_HOSTS: "127.0.0.1", ...env })))))
  )

const fresh = () => path.join(mkdtempSync(path.join(tmpdir(), "acct-wh-")), "acct.db")
const input = { name: "n", url: "http://127.0.0.1:9/", enabledEvents: ["*"] }

describe("webhook signing secrets at rest", () => {
  it.effect("are encrypted: the database file alone does not reveal them; the generated key file is 0600", () =>
    Effect.gen(function* () {
      const database = fresh()
      const made = yield* Effect.provide(Effect.flatMap(Webhooks, (w) => w.create(input)), store(database))
      const secret = made.secrets[0]!.value
      expect(readFileSync(database).includes(Buffer.from(secret))).toBe(false)
      expect(statSync(`${database}.webhook-key`).mode & 0o777).toBe(0o600)
      const stored = yield* Effect.provide(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ secret: string }>`SELECT secret FROM webhook_secrets`), store(database))
      expect(stored[0]!.secret).toMatch(/^v1\.[0-9a-f]{8}\./)
      // Another process opening the same database reads it with the same key file.
      expect(yield* Effect.provide(Effect.flatMap(WebhookSecrets, (w) => w.signing(made.webhook.id)), store(database))).toEqual({ values: [secret], until: null })
    })
  )

  it.effect("a rotated-out secret signs beside the new one until it expires", () =>
    Effect.gen(function* () {
      const webhooks = yield* Webhooks
      const secrets = yield* WebhookSecrets
      const made = yield* webhooks.create(input)
      const rotated = yield* webhooks.rotateSecret(made.webhook.id, 3600)
      const both = yield* secrets.signing(made.webhook.id)
      expect(both.values).toEqual([rotated.secrets[0]!.value, made.secrets[0]!.value])
      // The older one's expiry (TestClock stands still): when a cached set must be read again.
      expect(both.until!.getTime()).toBe((yield* Clock.currentTimeMillis) + 3600 * 1000)
      const again = yield* webhooks.rotateSecret(made.webhook.id, 0)
      expect(yield* secrets.signing(made.webhook.id)).toEqual({ values: [again.secrets[0]!.value], until: null })
    }).pipe(Effect.provide(store(":memory:")))
  )

  it.effect("ACCT_WEBHOOK_KEY: a list while rotating (the first encrypts, all decrypt); rekey re-encrypts; a wrong key is refused in words", () =>
    Effect.gen(function* () {
      const database = fresh()
      const oldKey = Buffer.alloc(32, 1).toString("base64")
      const newKey = Buffer.alloc(32, 2).toString("hex")
      const made = yield* Effect.provide(Effect.flatMap(Webhooks, (w) => w.create(input)), store(database, { ACCT_WEBHOOK_KEY: oldKey }))
      const both = store(database, { ACCT_WEBHOOK_KEY: `${newKey},${oldKey}` })
      expect(yield* Effect.provide(Effect.flatMap(WebhookSecrets, (w) => w.reencrypt()), both)).toBe(1)
      expect(yield* Effect.provide(Effect.flatMap(WebhookSecrets, (w) => w.signing(made.webhook.id)), store(database, { ACCT_WEBHOOK_KEY: newKey }))).toEqual({ values: [made.secrets[0]!.value], until: null })
      const wrong = yield* Effect.flip(Effect.provide(Effect.flatMap(WebhookSecrets, (w) => w.signing(made.webhook.id)), store(database, { ACCT_WEBHOOK_KEY: oldKey })))
      expect(wrong.message).toContain("which is not in ACCT_WEBHOOK_KEY")
      const short = yield* Effect.flip(Effect.provide(Effect.flatMap(Webhooks, (w) => w.create(input)), store(database, { ACCT_WEBHOOK_KEY: "c2hvcnQ=" })))
      expect(short.message).toContain("ACCT_WEBHOOK_KEY entry 1: expected a 32-byte key")
    })
  )
})
