/**
 * The store on PostgreSQL, for several servers sharing one database: the same queries and
 * migrations as SQLite. Migrations run in one transaction holding an advisory lock, so
 * replicas that start together migrate exactly once.
 */
import { type Accounts, type ApiKeys, type Events, InvalidRequest, RetryPolicy, Unavailable } from "@acct/core"
import { isMissingPostgresDatabase } from "./existing-database.js"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Layer, Redacted, Schedule, Stream } from "effect"
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
  /**
   * How long a start keeps trying when Postgres cannot be reached (refused, reset, timed out:
   * e.g. Postgres restarting while the server starts), with capped, jittered backoff; default 0:
   * one try (a command should say at once that the database is down). A missing database or a
   * refused login is not retried.
   */
  readonly connectRetryWindow?: Duration.DurationInput | undefined
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

/** Backoff between start attempts: 100 ms doubling, capped at 2 s, jittered. */
const CONNECT_BACKOFF = Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("2 seconds")), Schedule.jittered)

/**
 * Failures that waiting can cure: no connection (refused, reset, timed out, host unreachable)
 * or a Postgres that is starting or shutting down (SQLSTATE 57P01–57P03). Not a missing
 * database, a refused login or a failed migration: those are fixed by a person.
 */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "EPIPE", "57P01", "57P02", "57P03"])
const isUnreachable = (error: unknown): boolean => {
  for (let e = error as { code?: unknown; cause?: unknown; message?: unknown; _tag?: unknown } | undefined, depth = 0; e && depth < 6; e = e.cause as typeof e, depth++) {
    if (typeof e.code === "string" && UNREACHABLE_CODES.has(e.code)) return true
    if (e._tag === "TimeoutException") return true
    // node-postgres, when the server closes a connection during its start-up exchange.
    if (typeof e.message === "string" && /Connection terminated (unexpectedly|due to connection timeout)/.test(e.message)) return true
  }
  return false
}

/** The first connection (and the migrations) tried again while Postgres is unreachable, for at most `window`; each failed try is logged. */
const retryWhileUnreachable = (window: Duration.Duration) =>
  <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E, R> =>
    Duration.toMillis(window) <= 0
      ? layer
      : layer.pipe(
          Layer.tapError((e) => (isUnreachable(e) ? Effect.logWarning("Postgres unreachable at start; trying again").pipe(Effect.annotateLogs({ reason: describe(e) })) : Effect.void)),
          Layer.retry(CONNECT_BACKOFF.pipe(Schedule.upTo(window), Schedule.whileInput(isUnreachable)))
        )

const describe = (e: unknown) => {
  const error = e as { message?: string; cause?: { message?: string } }
  return [error.message, error.cause?.message].filter(Boolean).join(": ") || String(e)
}

export const postgresClientLayer = (options: PostgresOptions) => {
  const window = Duration.decode(options.connectRetryWindow ?? 0)
  return Layer.effectDiscard(prepare).pipe(
    Layer.provideMerge(
      PgClient.layer({
        url: Redacted.make(withStatementTimeout(options.url, options.statementTimeoutMs ?? 5000)),
        maxConnections: options.maxConnections ?? 10,
        applicationName: "acct"
      })
    ),
    retryWhileUnreachable(window),
    Layer.mapError((e) => {
      // Waiting does not make a missing database appear: that is a setting to fix, not an outage.
      if (isMissingPostgresDatabase(e)) {
        const name = new URL(options.url).pathname.slice(1)
        return new InvalidRequest({ message: `the Postgres database at ${redactUrl(options.url)} does not exist; create it (createdb ${name}, or CREATE DATABASE ${name}) or fix the URL` })
      }
      const gaveUp = Duration.toMillis(window) > 0 && isUnreachable(e) ? ` (still unreachable after trying for ${Duration.format(window)})` : ""
      return new Unavailable({ message: `cannot use Postgres at ${redactUrl(options.url)}: ${describe(e)}${gaveUp}` })
    })
  )
}

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
