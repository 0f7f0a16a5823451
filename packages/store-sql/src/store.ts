/** The store a `--db` / ACCT_DATABASE value names: a postgres:// URL, or an SQLite file. */
import { type PostgresOptions, PostgresStore } from "./postgres.js"
import { isPostgresUrl } from "./database-url.js"
import { SqliteStore } from "./sqlite.js"

export { isPostgresUrl }

export type StoreOptions = Omit<PostgresOptions, "url">

export const storeFor = (database: string, postgres: StoreOptions = {}) =>
  isPostgresUrl(database) ? PostgresStore({ ...postgres, url: database }) : SqliteStore({ filename: database })
