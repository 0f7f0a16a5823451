/**
 * Database failures as domain errors: busy/locked/serialization/dropped connection are
 * retryable (Unavailable), constraint violations are Conflicts; nothing becomes a defect.
 */
import { type AccountsError, Conflict, Unavailable } from "@acct/core"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"

const codeOf = (error: SqlError): string => {
  const cause = error.cause as { code?: unknown } | undefined
  return typeof cause?.code === "string" ? cause.code : ""
}

const RETRYABLE = new Set([
  // SQLite
  "SQLITE_BUSY",
  "SQLITE_BUSY_SNAPSHOT",
  "SQLITE_BUSY_RECOVERY",
  "SQLITE_LOCKED",
  "SQLITE_LOCKED_SHAREDCACHE",
  // Postgres: serialization failure, deadlock, statement timeout, connection errors
  "40001",
  "40P01",
  "57014",
  "57P01",
  "08000",
  "08003",
  "08006",
  "ECONNREFUSED",
  "ECONNRESET"
])

export const isUniqueViolation = (error: SqlError): boolean => {
  const code = codeOf(error)
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505"
}

export const fromSqlError = (error: SqlError): Conflict | Unavailable => {
  const code = codeOf(error)
  if (code.startsWith("SQLITE_CONSTRAINT") || code.startsWith("23")) {
    return new Conflict({ message: "the change conflicts with the stored data (a uniqueness or reference rule); nothing was changed" })
  }
  if (RETRYABLE.has(code)) return new Unavailable({ message: `the database is busy (${code}); try again` })
  if (code.startsWith("SQLITE_READONLY")) return new Unavailable({ message: `the database cannot be written (${code}): check the file's permissions and that its directory still exists` })
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_IOERR")) return new Unavailable({ message: `the database file cannot be read or written (${code})` })
  return new Unavailable({ message: `database error${code ? ` (${code})` : ""}` })
}

/** An effect's database failures as domain errors (busy → Unavailable, constraint → Conflict). */
export const db = <A, E>(effect: Effect.Effect<A, E | SqlError>) =>
  Effect.catchIf(effect, (e): e is SqlError => (e as { _tag?: unknown })._tag === "SqlError", (e) => Effect.fail(fromSqlError(e))) as Effect.Effect<A, Exclude<E, SqlError> | AccountsError>
