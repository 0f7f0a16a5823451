/**
 * Real databases for the store tests: SQLite files, and PostgreSQL when one is reachable
 * (ACCT_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres). Every test
 * gets a database of its own. With CI=true an unreachable Postgres fails the run.
 */
import { type Accounts, type Events, type Invocation, Principal, type Scope } from "@acct/core"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Either, Layer, Redacted } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { demoCatalog, type EventFeed, loadCatalog, parseCatalog, seedDemoAccounts, storeFor } from "../src/index.js"

export const tempDb = () => path.join(mkdtempSync(path.join(tmpdir(), "acct-store-")), "acct.db")

const adminUrl = process.env.ACCT_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

const admin = <A>(effect: Effect.Effect<A, unknown, SqlClient.SqlClient>) =>
  Effect.runPromise(effect.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(adminUrl), maxConnections: 1 })), Effect.timeout("5 seconds")) as Effect.Effect<A, unknown>)

const postgresReachable = await admin(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`)).then(
  () => true,
  () => false
)
if (!postgresReachable) {
  if (process.env.CI === "true") throw new Error(`Postgres at ${adminUrl} is unreachable, and with CI=true the Postgres store tests must run`)
  console.warn(`note: Postgres store tests skipped — no Postgres at ${adminUrl} (start one, or set ACCT_TEST_POSTGRES_URL)`)
}

const created: Array<string> = []

export interface Backend {
  readonly name: "sqlite" | "postgres"
  /** A new, empty database: a file path or a postgres:// URL. */
  readonly fresh: () => Promise<string>
}

const sqlite: Backend = { name: "sqlite", fresh: async () => tempDb() }

const postgres: Backend = {
  name: "postgres",
  fresh: async () => {
    const name = `acct_test_${Math.random().toString(36).slice(2, 12)}`
    await admin(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`CREATE DATABASE ${name}`)))
    created.push(name)
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    return url.toString()
  }
}

export const backends: ReadonlyArray<Backend> = postgresReachable ? [sqlite, postgres] : [sqlite]

/** Drops the Postgres databases this file created. */
export const dropDatabases = async () => {
  for (const name of created.splice(0)) {
    await admin(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))).catch(() => undefined)
  }
}

/** A store with the demo catalog (and accounts, unless `seed` is false) on the given database. */
export const demoStore = (database: string, seed = true) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      yield* loadCatalog(Either.getOrThrow(parseCatalog(JSON.stringify(demoCatalog), "demo.json")), "demo")
      if (seed) yield* seedDemoAccounts
    })
  ).pipe(Layer.provideMerge(storeFor(database)), Layer.orDie)

/** Runs `effect` on a fresh database of `backend` with the demo store. */
export const onFreshStore = <A, E>(backend: Backend, effect: Effect.Effect<A, E, Accounts | Events | EventFeed | SqlClient.SqlClient>) =>
  Effect.flatMap(
    Effect.promise(() => backend.fresh()),
    (database) => Effect.provide(effect, demoStore(database))
  )

export const as = (scopes: ReadonlyArray<Scope> = ["admin"], id = "tester"): Invocation => ({
  principal: Principal.make({ actor: { kind: "cli", id, name: id }, scopes: [...scopes] }),
  channel: "cli"
})

export const jane = { referenceId: "abc-123" } as const
