/**
 * The store follows core's idempotency rule and tells its caller when it answered a replay. It
 * is the one record of a key (the HTTP layer keeps none): the operation's own refusals are
 * recorded and replayed too; refusals that never ran are not.
 */
import { Accounts, Principal, type Scope } from "@acct/core"
import { SqlClient } from "@effect/sql"
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

  it.effect("an operation's refusal is the key's record: replayed (onReplay runs), not run again; a forbidden attempt is not recorded", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      const replays = yield* Ref.make(0)
      const inv = { ...as(), idempotencyKey: "refused-1", onReplay: Ref.update(replays, (n) => n + 1) }
      const first = yield* Effect.flip(accounts.runAction(jane, "Set status", { status: "sideways" }, inv))
      expect(first).toMatchObject({ _tag: "Unprocessable" })
      const again = yield* Effect.flip(accounts.runAction(jane, "Set status", { status: "sideways" }, inv))
      expect(again).toEqual(first)
      expect(yield* Ref.get(replays)).toBe(1)
      // Another request under the key is still refused as a mismatch.
      expect(yield* Effect.flip(accounts.runAction(jane, "Set status", { status: "activated" }, inv))).toMatchObject({ _tag: "Unprocessable", message: expect.stringContaining("already used for a different request") })
      // Refused attempts are audited once each (the replay is not a new attempt).
      const refusals = yield* sql<{ n: number | string }>`SELECT count(*) AS n FROM audit_log WHERE outcome LIKE 'refused:%'`
      expect(Number(refusals[0]!.n)).toBe(2)

      const forbidden = yield* Effect.flip(accounts.addTag(jane, "x", { ...as(["account.read"]), idempotencyKey: "forbidden-1" }))
      expect(forbidden).toMatchObject({ _tag: "Forbidden" })
      expect((yield* accounts.addTag(jane, "x", { ...as(), idempotencyKey: "forbidden-1" })).tags).toContain("x")
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("a person named by a delegating key is the actor, the key is `via`; naming one without the scope is Forbidden and audited", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      const person = { kind: "slack" as const, id: "T1/U2", name: "slack:T1/U2" }
      const key = (scopes: ReadonlyArray<Scope>) => ({ channel: "http" as const, principal: Principal.make({ actor: { kind: "api-key", id: "key_front", name: "front end" }, scopes: [...scopes] }) })
      const refused = yield* Effect.flip(accounts.lifecycle(jane, "disable", { ...key(["account.action"]), onBehalfOf: person }))
      expect(refused).toMatchObject({ _tag: "Forbidden", missingScope: "account.delegate", message: "front end may not act on behalf of slack:T1/U2: missing scope account.delegate" })
      const { run } = yield* accounts.lifecycle(jane, "disable", { ...key(["account.action", "account.delegate"]), onBehalfOf: person })
      expect(run.actor).toEqual(person)
      expect(run.via).toEqual({ kind: "api-key", id: "key_front", name: "front end" })
      expect((yield* accounts.getRun(run.id)).via).toEqual(run.via)
      const rows = yield* sql<{ actor_id: string; via_id: string | null; outcome: string }>`SELECT actor_id, via_id, outcome FROM audit_log WHERE operation = 'disable' ORDER BY seq`
      expect(rows).toEqual([
        { actor_id: "T1/U2", via_id: "key_front", outcome: "refused:Forbidden" },
        { actor_id: "T1/U2", via_id: "key_front", outcome: "ok" }
      ])
    }).pipe((test) => onFreshStore(backend, test))
  )
})
