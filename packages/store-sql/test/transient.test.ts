import { Accounts } from "@acct/core"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { PgClient } from "@effect/sql-pg"
import { Context, Deferred, Effect, Fiber, Layer, Redacted } from "effect"
import { afterAll } from "vitest"
import { SqlError } from "@effect/sql/SqlError"
import { fromSqlError } from "../src/sql-errors.js"
import { storeFor } from "../src/index.js"
import { as, backends, demoStore, dropDatabases, jane, onFreshStore } from "./harness.js"

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

describe.runIf(postgres !== undefined)("a change whose caller goes away (Postgres)", () => {
  it.live("is finished, not cancelled, even when every pooled connection waits on its account's lock", () =>
    Effect.gen(function* () {
      const database = yield* Effect.promise(() => postgres!.fresh())
      yield* Effect.scoped(Layer.build(demoStore(database)))
      const accounts = Context.get(yield* Layer.build(storeFor(database, { maxConnections: 2 })), Accounts)
      const before = yield* accounts.get(jane)
      // Another client, outside the store's pool, holds the account's row lock until told.
      const release = yield* Deferred.make<void>()
      const locked = yield* Deferred.make<void>()
      const locker = yield* Effect.fork(
        Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`SELECT id FROM accounts WHERE id = ${before.id} FOR UPDATE`
              yield* Deferred.succeed(locked, undefined)
              yield* Deferred.await(release)
            })
          )
        ).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(database), maxConnections: 1 })))
      )
      yield* Deferred.await(locked)
      // Two changes wait for the lock, one pooled connection each: the pool is full.
      const hungUp = yield* Effect.fork(accounts.addTag(jane, "hung-up", as()))
      const waiting = yield* Effect.fork(accounts.addTag(jane, "waiting", as()))
      yield* Effect.sleep("300 millis")
      // The first one's caller goes away (an HTTP client hanging up interrupts its request).
      const interrupting = yield* Effect.fork(Fiber.interrupt(hungUp))
      yield* Effect.sleep("300 millis")
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(locker)
      yield* Fiber.join(waiting).pipe(Effect.timeout("3 seconds"))
      yield* Fiber.join(interrupting).pipe(Effect.timeout("3 seconds"))
      const after = yield* accounts.get(jane)
      expect(after.tags).toEqual(expect.arrayContaining(["hung-up", "waiting"]))
      expect(after.version).toBe(before.version + 2)
    }).pipe(Effect.scoped)
  )
})
