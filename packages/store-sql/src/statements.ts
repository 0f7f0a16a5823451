/**
 * How the store runs a statement, when @effect/sql's general path costs more than it gives.
 *
 * @effect/sql runs every statement in a span, a Scope and a connection acquire: about 55–100
 * Effect operations a statement, the largest share of a small request's CPU after the SQL itself
 * (bench/README.md, "request-work"). Two places need none of it:
 *
 * - inside `withTransaction` the connection is already held (and tracing is off here):
 *   `inTransaction` compiles the statement as the client would and calls the held connection —
 *   the same SQL, parameters, prepared-statement cache and errors;
 * - a read outside a change, on SQLite: the read `makeRead` gives runs it on a second, read-only
 *   connection to the same file (SqliteReader). In WAL mode that connection sees every committed change and never
 *   waits for the writer, so the read needs no turn at the single write connection either — and
 *   cannot see another fiber's transaction that is still open on it.
 *
 * Anywhere else (Postgres' pool, a write outside a transaction) the statement runs as usual.
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import type { Statement } from "@effect/sql/Statement"
import Sqlite from "better-sqlite3"
import { Context, Effect, Layer, Option, Scope } from "effect"

type Rows<A> = Effect.Effect<ReadonlyArray<A>, SqlError>

/** The statement on the connection the surrounding transaction holds, or `outside` it when there is none. */
const onHeldConnection = <A>(statement: Statement<A>, outside: (statement: Statement<A>) => Rows<A>): Rows<A> =>
  Effect.withFiberRuntime((fiber) => {
    const held = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)
    if (held._tag === "None") return outside(statement)
    const [text, params] = statement.compile()
    return held.value[0].execute(text, params, undefined) as Rows<A>
  })

export const inTransaction = <A>(statement: Statement<A>): Rows<A> => onHeldConnection(statement, (asUsual) => asUsual)

/** Prepared statements kept per reader; past this many (a caller building ad-hoc SQL) the cache starts again. */
const READER_CACHE_SIZE = 500

/** A read-only connection to an SQLite file, opened on its first read. */
export class SqliteReader extends Context.Tag("@acct/store-sql/SqliteReader")<
  SqliteReader,
  { readonly all: (text: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<unknown>, SqlError> }
>() {
  /** `busyTimeoutMs`: as the write connection's (sqlite.ts), a lock is waited out on the event loop. */
  static readonly layer = (filename: string, busyTimeoutMs: number) =>
    Layer.scoped(
      SqliteReader,
      Effect.gen(function* () {
        let db: Sqlite.Database | undefined
        const prepared = new Map<string, Sqlite.Statement>()
        yield* Effect.addFinalizer(() => Effect.sync(() => db?.close()))
        const statementFor = (text: string) => {
          let statement = prepared.get(text)
          if (statement === undefined) {
            if (db === undefined) {
              db = new Sqlite(filename, { readonly: true, fileMustExist: true })
              db.pragma(`busy_timeout = ${busyTimeoutMs}`)
            }
            if (prepared.size >= READER_CACHE_SIZE) prepared.clear()
            statement = db.prepare(text)
            prepared.set(text, statement)
          }
          return statement
        }
        return {
          all: (text, params) =>
            Effect.try({
              try: () => statementFor(text).all(...params),
              catch: (cause) => new SqlError({ cause, message: "Failed to execute statement" })
            })
        }
      })
    )
}

/**
 * How a repository runs its reads: on the transaction's connection inside a change, on the
 * SQLite reader outside one when there is a reader, else as usual. Built once per repository.
 */
export const makeRead = Effect.map(Effect.serviceOption(SqliteReader), (reader) =>
  Option.match(reader, {
    onNone: () => inTransaction,
    onSome: (reader) => <A>(statement: Statement<A>): Rows<A> =>
      onHeldConnection(statement, (outside) => {
        const [text, params] = outside.compile()
        return reader.all(text, params) as Rows<A>
      })
  })
)

/**
 * @effect/sql-sqlite-node begins and commits every transaction with `executeUnprepared`, so
 * SQLite compiles "BEGIN" and "COMMIT" anew for each one: ≈ 36 + 12 µs of CPU per change in the
 * running server, of ≈ 270 µs in all its statements (bench/README), and two native statements
 * per change left for the garbage collector to finalise. This is the same transaction — the
 * library's own `makeWithTransaction`, connection, savepoints and span — with BEGIN, COMMIT and
 * ROLLBACK run through the connection's prepared-statement cache. Given the SQLite client, it
 * replaces that client's `withTransaction` (every `sql.withTransaction` of the process).
 */
export const preparedTransactions = (client: SqlClient.SqlClient): void => {
  const run = (conn: { readonly execute: (text: string, params: ReadonlyArray<unknown>, transform: undefined) => Effect.Effect<unknown, SqlError> }, text: string) =>
    Effect.asVoid(conn.execute(text, [], undefined))
  const withTransaction = SqlClient.makeWithTransaction({
    transactionTag: SqlClient.TransactionConnection,
    spanAttributes: [["db.system.name", "sqlite"]],
    acquireConnection: Effect.flatMap(Scope.make(), (scope) => Effect.map(Scope.extend(client.reserve, scope), (conn) => [scope, conn] as const)),
    begin: (conn) => run(conn, "BEGIN"),
    savepoint: (conn, id) => conn.executeUnprepared(`SAVEPOINT effect_sql_${id}`, [], undefined),
    commit: (conn) => run(conn, "COMMIT"),
    rollback: (conn) => run(conn, "ROLLBACK"),
    rollbackSavepoint: (conn, id) => conn.executeUnprepared(`ROLLBACK TO SAVEPOINT effect_sql_${id}`, [], undefined)
  })
  Object.assign(client, { withTransaction })
}
