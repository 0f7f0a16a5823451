/** The store a `--db` / ACCT_DATABASE value names: a postgres:// URL, or an SQLite file. */
import { PostgresStore } from "./postgres.js"
import { SqliteStore } from "./sqlite.js"

export const isPostgresUrl = (database: string) => /^postgres(ql)?:\/\//.test(database)

export const storeFor = (database: string) => (isPostgresUrl(database) ? PostgresStore({ url: database }) : SqliteStore({ filename: database }))
