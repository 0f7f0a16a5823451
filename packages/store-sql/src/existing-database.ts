/**
 * Opening a store normally creates what is missing (the SQLite file, its directory, the tables).
 * A front end where only one command creates a database (the CLI's `init`) asks for this check
 * first, so a mistyped `--db` or the wrong folder is an error that says how to create one,
 * not a new empty database there.
 */
import { InvalidRequest } from "@acct/core"
import { Effect } from "effect"
import { statSync } from "node:fs"

export interface MustExist {
  /** Told to the user when there is none, e.g. "create one with `acct init --db PATH`". */
  readonly howToCreate: string
}

/** Succeeds when `filename` is an existing file (or `:memory:`); refuses without creating anything. */
export const requireSqliteFile = (filename: string, mustExist: MustExist): Effect.Effect<void, InvalidRequest> =>
  Effect.suspend(() => {
    if (filename === ":memory:") return Effect.void
    const stat = statSync(filename, { throwIfNoEntry: false })
    if (stat?.isFile()) return Effect.void
    const what = stat === undefined ? "there is no acct database at" : "not a database file:"
    return Effect.fail(new InvalidRequest({ message: `${what} ${filename}; ${mustExist.howToCreate}` }))
  })

/** Postgres's answer when the database named in the URL does not exist (SQLSTATE 3D000). */
export const isMissingPostgresDatabase = (error: unknown): boolean => {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === "3D000") return true
  }
  return false
}
