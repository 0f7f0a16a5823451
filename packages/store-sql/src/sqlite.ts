/**
 * The embedded default: one SQLite file, WAL journal, a busy timeout so concurrent processes
 * wait for each other instead of failing, foreign keys enforced, migrations run at start.
 */
import { type Accounts, type ApiKeys, RetryPolicy, Unavailable } from "@acct/core"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect, Layer } from "effect"
import { mkdirSync } from "node:fs"
import path from "node:path"
import { runMigrations } from "./migrations.js"
import { SqlApiKeysLive } from "./api-keys.js"
import { SqlAccountsLive } from "./sql-accounts.js"

export interface SqliteOptions {
  /** A file path, or `:memory:`. */
  readonly filename: string
}

const prepare = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`PRAGMA busy_timeout = 5000`
  yield* sql`PRAGMA foreign_keys = ON`
  yield* sql`PRAGMA synchronous = NORMAL`
  yield* runMigrations
})

/** SqliteClient with pragmas set and migrations applied. */
export const sqliteClientLayer = (options: SqliteOptions) =>
  Layer.effectDiscard(prepare).pipe(
    Layer.provideMerge(
      Layer.unwrapEffect(
        Effect.try({
          try: () => {
            if (options.filename !== ":memory:") mkdirSync(path.dirname(path.resolve(options.filename)), { recursive: true })
            return SqliteClient.layer({ filename: options.filename })
          },
          catch: (e) => new Unavailable({ message: `cannot create the database directory for ${options.filename}: ${(e as Error).message}` })
        })
      )
    ),
    Layer.mapError((e) =>
      e instanceof Unavailable ? e : new Unavailable({ message: `cannot open database ${options.filename}: ${"message" in (e as object) ? (e as Error).message : String(e)}` })
    )
  )

/** Accounts and API keys on an SQLite file, with its client and a retry policy for busy databases. */
export const SqliteStore = (options: SqliteOptions): Layer.Layer<Accounts | ApiKeys | SqlClient.SqlClient, Unavailable> =>
  Layer.merge(SqlAccountsLive, SqlApiKeysLive).pipe(Layer.provideMerge(sqliteClientLayer(options)), Layer.provide(RetryPolicy.Default))
