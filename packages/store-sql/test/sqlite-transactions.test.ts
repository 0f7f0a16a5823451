/**
 * The SQLite client's transactions (statements.ts `preparedTransactions`): BEGIN and COMMIT are
 * compiled once, not for every transaction, and a failure still rolls everything back.
 */
import { SqlClient } from "@effect/sql"
import Sqlite from "better-sqlite3"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { sqliteClientLayer } from "../src/sqlite.js"
import { tempDb } from "./harness.js"

// Every statement the process compiles, by its text.
const compiled: Array<string> = []
const originalPrepare = Sqlite.prototype.prepare
Sqlite.prototype.prepare = function (this: Sqlite.Database, source: string) {
  compiled.push(source)
  return originalPrepare.call(this, source)
} as typeof Sqlite.prototype.prepare
afterAll(() => {
  Sqlite.prototype.prepare = originalPrepare
})

const onSqlite = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.runPromise(Effect.provide(effect, sqliteClientLayer({ filename: tempDb() })) as Effect.Effect<A, unknown>)

describe("SQLite transactions", () => {
  it("compile BEGIN and COMMIT once, however many transactions run", async () => {
    await onSqlite(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        compiled.length = 0
        for (let i = 0; i < 20; i++) yield* sql.withTransaction(sql`SELECT ${i}`)
      })
    )
    // Before: 20 of each (the library compiles them anew for every transaction).
    expect(compiled.filter((s) => s === "BEGIN").length).toBeLessThanOrEqual(1)
    expect(compiled.filter((s) => s === "COMMIT").length).toBeLessThanOrEqual(1)
  })

  it("roll back a failed transaction, and a failed savepoint inside a committed one", async () => {
    const rows = await onSqlite(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE t (v INTEGER)`
        yield* sql.withTransaction(Effect.zipRight(sql`INSERT INTO t VALUES (1)`, Effect.fail("no"))).pipe(Effect.ignore)
        yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`INSERT INTO t VALUES (2)`
            yield* sql.withTransaction(Effect.zipRight(sql`INSERT INTO t VALUES (3)`, Effect.fail("no"))).pipe(Effect.ignore)
          })
        )
        return yield* sql<{ v: number }>`SELECT v FROM t ORDER BY v`
      })
    )
    expect(rows.map((r) => r.v)).toEqual([2])
  })
})
