import { Accounts } from "@acct/core"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { afterAll } from "vitest"
import { SqlError } from "@effect/sql/SqlError"
import { fromSqlError } from "../src/sql-errors.js"
import { as, backends, dropDatabases, jane, onFreshStore } from "./harness.js"

afterAll(dropDatabases)

const postgres = backends.find((b) => b.name === "postgres")

describe.runIf(postgres !== undefined)("transient database failures (Postgres)", () => {
  it.effect("recovers from connections the server dropped: reads and changes still succeed, exactly once", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      const before = (yield* accounts.listRuns({ account: jane, size: 100 })).items.length
      // Kill every server-side connection of this database but the one asking.
      const killAll = sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`
      yield* killAll
      const read = yield* accounts.get(jane)
      expect(read.referenceId).toBe("abc-123")
      yield* killAll
      const { run } = yield* accounts.runAction(jane, "Set status", { status: "activated" }, as())
      expect(run.statusAfter).toBe("activated")
      expect((yield* accounts.listRuns({ account: jane, size: 100 })).items.length).toBe(before + 1)
    }).pipe((test) => onFreshStore(postgres!, test))
  )
})

describe("database failures as typed errors", () => {
  const failure = (code: string) => fromSqlError(new SqlError({ cause: Object.assign(new Error(code), { code }), message: "failed" }))
  it.each([
    ["40001", "serialization failure"],
    ["40P01", "deadlock"],
    ["57014", "statement timeout"],
    ["57P01", "connection terminated by the server"],
    ["08006", "connection failure"],
    ["SQLITE_BUSY", "SQLite busy"]
  ])("%s (%s) is retryable: RetryPolicy tries again", (code) => {
    const error = failure(code)
    expect(error._tag).toBe("Unavailable")
    expect(error.retryable).toBe(true)
  })
  it.each(["23505", "SQLITE_CONSTRAINT_UNIQUE"])("%s (a uniqueness rule) is a Conflict, never retried", (code) => {
    const error = failure(code)
    expect(error._tag).toBe("Conflict")
    expect(error.retryable).toBe(false)
  })
})
