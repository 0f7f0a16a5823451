/** The store follows core's idempotency rule and tells its caller when it answered a replay. */
import { Accounts } from "@acct/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { afterAll } from "vitest"
import { as, backends, dropDatabases, jane, onFreshStore } from "./harness.js"

afterAll(dropDatabases)

describe.each(backends)("idempotency rule in the store ($name)", (backend) => {
  it.effect("the same request with its keys in another order replays; onReplay runs only for replays", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const replays = yield* Ref.make(0)
      const inv = { ...as(), idempotencyKey: "order-1", onReplay: Ref.update(replays, (n) => n + 1) }
      const first = yield* accounts.update(jane, { fields: { phone_number: "555-0100", email_address: "j@d.io" } }, inv)
      expect(yield* Ref.get(replays)).toBe(0)
      const again = yield* accounts.update(jane, { fields: { email_address: "j@d.io", phone_number: "555-0100" } }, inv)
      expect(again).toEqual(first)
      expect(yield* Ref.get(replays)).toBe(1)
      expect((yield* accounts.get(jane)).version).toBe(first.version)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("a malformed key is a bad request, and nothing runs", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const before = yield* accounts.get(jane)
      const error = yield* Effect.flip(accounts.addTag(jane, "x", { ...as(), idempotencyKey: "has space" }))
      expect(error).toMatchObject({ _tag: "InvalidRequest", status: 400 })
      expect(yield* accounts.get(jane)).toEqual(before)
    }).pipe((test) => onFreshStore(backend, test))
  )
})
