/** A store with the demo catalog, webhooks on it, and dispatcher options quick enough for tests. */
import { type Invocation, Principal } from "@acct/core"
import { demoCatalog, loadCatalog, parseCatalog, seedDemoAccounts, storeFor } from "@acct/store-sql"
import { ConfigProvider, Duration, Effect, Either, Layer } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { type DispatcherOptions, webhooksLayer } from "../src/index.js"

export const tempDb = () => path.join(mkdtempSync(path.join(tmpdir(), "acct-webhooks-")), "acct.db")

export const withEnv = (env: Record<string, string>) => Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** Webhooks and the demo store on `database` (an SQLite file or a postgres:// URL). */
export const testStore = (database: string, seed = true) =>
  webhooksLayer(database).pipe(
    Layer.provideMerge(
      Layer.effectDiscard(
        Effect.gen(function* () {
          yield* loadCatalog(Either.getOrThrow(parseCatalog(JSON.stringify(demoCatalog), "demo.json")), "demo")
          if (seed) yield* seedDemoAccounts
        })
      ).pipe(Layer.provideMerge(storeFor(database)))
    ),
    Layer.orDie,
    Layer.provide(withEnv({ ACCT_WEBHOOK_ALLOWED_HOSTS: "127.0.0.1,localhost", ACCT_WEBHOOK_KEY: Buffer.alloc(32, 7).toString("base64") }))
  )

export const quick = (overrides: Partial<DispatcherOptions> = {}): DispatcherOptions => ({
  schedule: [Duration.zero, Duration.millis(200), Duration.millis(200)],
  allowed: new Set(["127.0.0.1"]),
  timeoutMs: 2000,
  leaseMs: 10_000,
  graceMs: 500,
  pollMs: 50,
  concurrency: 4,
  batch: 500,
  ...overrides
})

export const as: Invocation = { principal: Principal.make({ actor: { kind: "cli", id: "tester", name: "tester" }, scopes: ["admin"] }), channel: "cli" }
