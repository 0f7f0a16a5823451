/** The store a `--db` / ACCT_DATABASE value names: a postgres:// URL, or an SQLite file. */
import { Effect, Layer } from "effect"
import { type MustExist, requireSqliteFile } from "./existing-database.js"
import { type PostgresOptions, PostgresStore } from "./postgres.js"
import { SqliteStore } from "./sqlite.js"

export const isPostgresUrl = (database: string) => /^postgres(ql)?:\/\//.test(database)

export interface StoreOptions extends Omit<PostgresOptions, "url"> {
  /** Refuse (InvalidRequest) instead of creating a new SQLite database. Postgres databases are never created. */
  readonly mustExist?: MustExist | undefined
}

export const storeFor = (database: string, { mustExist, ...postgres }: StoreOptions = {}) =>
  isPostgresUrl(database)
    ? PostgresStore({ ...postgres, url: database })
    : mustExist
      ? Layer.unwrapEffect(requireSqliteFile(database, mustExist).pipe(Effect.as(SqliteStore({ filename: database }))))
      : SqliteStore({ filename: database })
