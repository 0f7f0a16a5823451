/**
 * The machine's PostgreSQL for server tests (ACCT_TEST_POSTGRES_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres). With CI=true an unreachable one fails the run;
 * elsewhere the Postgres tests are skipped with a notice.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"

export const adminUrl = process.env.ACCT_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

export const onDatabase = <A>(url: string, use: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(
    Effect.flatMap(SqlClient.SqlClient, use).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })), Effect.timeout("10 seconds")) as Effect.Effect<A, unknown>
  )

export const postgresReachable = await onDatabase(adminUrl, (sql) => sql`SELECT 1`).then(() => true, () => false)
if (!postgresReachable && process.env.CI === "true") throw new Error(`Postgres at ${adminUrl} is unreachable, and with CI=true the Postgres tests must run`)
if (!postgresReachable) console.warn(`note: Postgres server tests skipped — no Postgres at ${adminUrl} (start one, or set ACCT_TEST_POSTGRES_URL)`)

/** A new empty database; drop it with `drop()`. */
export const freshDatabase = async (prefix: string) => {
  const name = `${prefix}_${Math.random().toString(36).slice(2, 10)}`
  await onDatabase(adminUrl, (sql) => sql.unsafe(`CREATE DATABASE ${name}`))
  const url = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString()
  return { url, drop: () => onDatabase(adminUrl, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined) }
}
