/**
 * The store on PostgreSQL, for several servers sharing one database: the same queries and
 * migrations as SQLite. Migrations run in one transaction holding an advisory lock, so
 * replicas that start together migrate exactly once.
 */
import { type Accounts, type ApiKeys, type Events, InvalidRequest, RetryPolicy, Unavailable } from "@acct/core"
import { isMissingPostgresDatabase } from "./existing-database.js"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted, Schedule, Stream } from "effect"
import { SqlApiKeysLive } from "./api-keys.js"
import { runMigrations } from "./migrations.js"
import { type EventFeed, EVENTS_CHANNEL, ForeignCommits } from "./event-log.js"
import { SqlAccountsLive } from "./sql-accounts.js"

export interface PostgresOptions {
  /** postgres://user@host:5432/database */
  readonly url: string
  /** Connections in the pool (default 10). */
  readonly maxConnections?: number | undefined
  /** Statements running longer are cancelled by the server (default 5000 ms; 0 = no limit). */
  readonly statementTimeoutMs?: number | undefined
}

/** The URL with the statement timeout as a connection option, unless the URL sets options itself. */
const withStatementTimeout = (url: string, ms: number) => {
  const parsed = new URL(url)
  if (ms <= 0 || parsed.searchParams.has("options")) return url
  parsed.searchParams.set("options", `-c statement_timeout=${ms}`)
  return parsed.toString()
}

const MIGRATION_LOCK = 0x61636374 // "acct"

/**
 * The migrator serializes migrations itself (it locks its table), but creating that table on a
 * first start can race between replicas: create it here, under an advisory lock, first.
 */
const prepare = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql.withTransaction(
    Effect.zipRight(
      sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`,
      sql`CREATE TABLE IF NOT EXISTS acct_migrations (
        migration_id integer primary key,
        created_at timestamp with time zone not null default now(),
        name text not null
      )`
    )
  )
  yield* runMigrations
})

/** Where a connection URL shows up in messages: without its password. */
export const redactUrl = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@")

export const postgresClientLayer = (options: PostgresOptions) =>
  Layer.effectDiscard(prepare).pipe(
    Layer.provideMerge(
      PgClient.layer({
        url: Redacted.make(withStatementTimeout(options.url, options.statementTimeoutMs ?? 5000)),
        maxConnections: options.maxConnections ?? 10,
        applicationName: "acct"
      })
    ),
    Layer.mapError((e) => {
      const error = e as { message?: string; cause?: { message?: string } }
      const detail = [error.message, error.cause?.message].filter(Boolean).join(": ")
      // Waiting does not make a missing database appear: that is a setting to fix, not an outage.
      if (isMissingPostgresDatabase(e)) {
        const name = new URL(options.url).pathname.slice(1)
        return new InvalidRequest({ message: `the Postgres database at ${redactUrl(options.url)} does not exist; create it (createdb ${name}, or CREATE DATABASE ${name}) or fix the URL` })
      }
      return new Unavailable({ message: `cannot use Postgres at ${redactUrl(options.url)}: ${detail || String(e)}` })
    })
  )

/**
 * Other replicas' event commits, from the NOTIFY each event-writing transaction sends. LISTEN
 * holds one connection of its own; when it drops it is opened again (a second later), and
 * readers poll meanwhile (see EventFeed's contract).
 */
const foreignCommits = Layer.effect(
  ForeignCommits,
  Effect.map(PgClient.PgClient, (pg) =>
    pg.listen(EVENTS_CHANNEL).pipe(
      Stream.map((): void => undefined),
      Stream.retry(Schedule.spaced("1 second")),
      // The schedule never ends; this only tells the type so.
      Stream.catchAll(() => Stream.never as Stream.Stream<void>)
    )
  )
)

export const PostgresStore = (options: PostgresOptions): Layer.Layer<Accounts | Events | EventFeed | ApiKeys | SqlClient.SqlClient, Unavailable | InvalidRequest> =>
  Layer.merge(SqlAccountsLive, SqlApiKeysLive).pipe(
    Layer.provide(foreignCommits),
    Layer.provideMerge(postgresClientLayer(options)),
    Layer.provide(RetryPolicy.Default)
  )

const STARTUP_LOCK = 0x61637374 // "acst"

/**
 * Runs first-start work (bootstrap key, demo data) as one transaction that, on Postgres, holds
 * an advisory lock: replicas starting together do it once, the others then find it done.
 */
export const withStartupLock = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(
      Effect.zipRight(
        sql.onDialectOrElse({ pg: () => Effect.asVoid(sql`SELECT pg_advisory_xact_lock(${STARTUP_LOCK})`), orElse: () => Effect.void }),
        effect
      )
    )
  )
