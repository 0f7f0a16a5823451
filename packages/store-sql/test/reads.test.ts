/**
 * Reads outside a change never wait for one, and never see one that has not committed: on
 * SQLite they run on a read-only connection of their own (statements.ts), so a transaction
 * left open on the write connection — a change waiting on anything — does not hold them up.
 */
import { Accounts } from "@acct/core"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { afterAll } from "vitest"
import { backends, dropDatabases, jane, onFreshStore } from "./harness.js"

afterAll(dropDatabases)

describe.each(backends)("reads beside an open change ($name)", (backend) => {
  it.effect("a read while another fiber's transaction is open answers the committed state at once; after the commit, the new one", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      const written = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const before = yield* accounts.get(jane)
      const change = yield* sql
        .withTransaction(
          Effect.gen(function* () {
            yield* sql`UPDATE accounts SET status = 'disabled' WHERE reference_id = 'abc-123'`
            yield* Deferred.succeed(written, undefined)
            yield* Deferred.await(release)
          })
        )
        .pipe(Effect.fork)
      yield* Deferred.await(written)
      // With the write connection held by the open transaction, this read still answers (it used
      // to queue for that connection until the transaction ended), and without its change.
      const during = yield* accounts.get(jane).pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("the read waited for the open transaction") }))
      expect(during.status).toBe(before.status)
      const listed = yield* accounts.list({ referenceId: "abc-123" }).pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("the list waited for the open transaction") }))
      expect(listed.items.map((a) => a.status)).toEqual([before.status])
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(change)
      expect((yield* accounts.get(jane)).status).toBe("disabled")
    }).pipe((test) => onFreshStore(backend, test))
  )
})
