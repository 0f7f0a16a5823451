/**
 * Statements of a change, run on the connection its transaction already holds.
 *
 * @effect/sql runs every statement in a span, a Scope and a connection acquire, even inside
 * `withTransaction`, where the connection is already held and (here) tracing is off: about 80
 * Effect operations a statement, most of a change's cost after the SQL itself (bench/README.md,
 * "request-work"). `inTransaction` compiles the statement as the client would and calls the
 * held connection directly — the same SQL, parameters, prepared-statement cache and errors.
 * Outside a transaction it runs the statement as usual (the acquire is then what keeps a read
 * from seeing another fiber's open transaction on SQLite's single connection).
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Statement } from "@effect/sql/Statement"
import { Context, Effect } from "effect"

export const inTransaction = <A>(statement: Statement<A>): Effect.Effect<ReadonlyArray<A>, SqlError> =>
  Effect.withFiberRuntime((fiber) => {
    const held = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)
    if (held._tag === "None") return statement
    const [text, params] = statement.compile()
    return held.value[0].execute(text, params, undefined) as Effect.Effect<ReadonlyArray<A>, SqlError>
  })
