/**
 * The embedded default: one SQLite file, WAL journal, foreign keys enforced, migrations run at
 * start. Concurrent processes (the server, the CLI) take turns at the write lock.
 */
import { type Accounts, type ApiKeys, type Events, type InvalidRequest, RetryPolicy, Unavailable } from "@acct/core"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect, Layer } from "effect"
import { accessSync, constants, existsSync, lstatSync, mkdirSync, readlinkSync, statSync } from "node:fs"
import path from "node:path"
import { runMigrations } from "./migrations.js"
import { SqlApiKeysLive } from "./api-keys.js"
import type { EventFeed } from "./event-log.js"
import { SqlAccountsLive } from "./sql-accounts.js"
import { preparedTransactions, SqliteReader } from "./statements.js"

export interface SqliteOptions {
  /** A file path, or `:memory:`. */
  readonly filename: string
}

/**
 * How long one statement waits for another process's write lock. better-sqlite3 waits it out
 * synchronously, on the event loop, so every request of the process stalls with it: with 5 s, a
 * `BEGIN EXCLUSIVE` elsewhere froze /healthz for 5 s per attempt. So the wait is short and a busy
 * statement fails fast (SQLITE_BUSY, retryable): the store retries it asynchronously under
 * RetryPolicy (exponential backoff), with the event loop free in between, and answers 503 "the
 * database is busy" when the lock stays taken. Measured with another process holding the lock:
 * 5000 ms → the slowest /healthz ≈ 2 s (the whole 2.5 s hold); 10 ms → 45 ms (a busy 2-core box).
 */
export const SQLITE_BUSY_TIMEOUT_MS = 10

const prepare = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  preparedTransactions(sql)
  yield* sql.unsafe(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`)
  yield* sql`PRAGMA foreign_keys = ON`
  yield* sql`PRAGMA synchronous = NORMAL`
  // Freed pages are zeroed, so redacted or deleted data leaves no copy in the file.
  yield* sql`PRAGMA secure_delete = ON`
  yield* runMigrations
})

/**
 * `mkdir -p` that cannot hang. Node's own recursive mkdir spins forever (100 % CPU, deaf to
 * SIGTERM) when a parent exists but cannot hold children: a path under /proc, or a dangling
 * symlink such as a data directory on a volume that is not mounted. It reads ENOENT as "create
 * the parent first" and the parent's EEXIST as "now try again". Here each missing directory is
 * made once, top down, and the first failure is final.
 */
const ensureDirectory = (directory: string): void => {
  const missing: Array<string> = []
  let current = path.resolve(directory)
  while (!existsSync(current) && path.dirname(current) !== current) {
    missing.unshift(current)
    current = path.dirname(current)
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir)
    } catch (error) {
      // Made meanwhile by someone else: fine, if it is a directory.
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        if (statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue
        if (lstatSync(dir).isSymbolicLink()) throw new Error(`${dir} is a symbolic link to ${readlinkSync(dir)}, which does not exist`)
      }
      throw error
    }
  }
}

/**
 * SqliteClient with pragmas set and migrations applied, and (for a file) a read-only connection
 * beside it for reads outside a change (statements.ts).
 */
export const sqliteClientLayer = (options: SqliteOptions) =>
  Layer.effectDiscard(prepare).pipe(
    Layer.merge(options.filename === ":memory:" ? Layer.empty : SqliteReader.layer(options.filename, SQLITE_BUSY_TIMEOUT_MS)),
    Layer.provideMerge(
      Layer.unwrapEffect(
        Effect.try({
          try: () => {
            if (options.filename !== ":memory:") ensureDirectory(path.dirname(options.filename))
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

/**
 * Accounts, their events and API keys on an SQLite file, with its client and a retry policy for
 * busy databases. The event feed wakes readers in this process only (SQLite has no NOTIFY).
 */
export const SqliteStore = (options: SqliteOptions): Layer.Layer<Accounts | Events | EventFeed | ApiKeys | SqlClient.SqlClient, Unavailable | InvalidRequest> =>
  Layer.merge(SqlAccountsLive, SqlApiKeysLive).pipe(Layer.provideMerge(sqliteClientLayer(options)), Layer.provide(RetryPolicy.Default))

/** What `sqliteFileChecks` finds: undefined when the file is fine, else the problem in words. */
export type FileProblem = string | undefined

/**
 * Whether the SQLite file this process opened is still the one at its path, and writable.
 * SQLite keeps writing into an unlinked file (its directory removed, the file replaced), so such
 * writes succeed and are lost at the next start; checking around each write (and in readiness)
 * is the only way to notice. Each check costs system calls on a write's path, so a write gets
 * only what it needs:
 *
 * - `beforeWrite` (access(2)): the path is there and writable — else the write is refused
 *   unmade. A file replaced by another still passes: the write then lands in the old one, which
 *   `afterWrite` notices;
 * - `afterWrite` (stat(2)): the path is still the file that was opened — else the write went
 *   into a lost file and must not be acknowledged. A file made read-only while a write ran
 *   still holds that write: it is acknowledged, and the next write is refused;
 * - `problem`: both, for readiness.
 */
export const sqliteFileChecks = (filename: string) => {
  if (filename === ":memory:") return { beforeWrite: () => undefined, afterWrite: () => undefined, problem: () => undefined }
  const opened = statSync(filename, { throwIfNoEntry: false })
  const afterWrite = (): FileProblem => {
    const now = statSync(filename, { throwIfNoEntry: false })
    if (now === undefined) return `the database file ${filename} was removed`
    if (opened !== undefined && (now.ino !== opened.ino || now.dev !== opened.dev)) return `the database file ${filename} was replaced by another file`
    return undefined
  }
  const beforeWrite = (): FileProblem => {
    try {
      accessSync(filename, constants.W_OK)
      return undefined
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ENOENT" ? `the database file ${filename} was removed` : `the database file ${filename} is not writable`
    }
  }
  return { beforeWrite, afterWrite, problem: (): FileProblem => afterWrite() ?? beforeWrite() }
}

export { type MustExist, requireSqliteFile } from "./existing-database.js"
