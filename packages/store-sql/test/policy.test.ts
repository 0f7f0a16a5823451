/** One permission policy: the store follows core's table operation by operation, and audits refusals. */
import { Accounts, type AccountsOperation, accountsPolicy, type AccountsService, type Scope, withPolicy } from "@acct/core"
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { afterAll } from "vitest"
import { as, backends, dropDatabases, jane, onFreshStore } from "./harness.js"

afterAll(dropDatabases)

type Call = (accounts: AccountsService, scopes: ReadonlyArray<Scope>) => Effect.Effect<unknown, { readonly _tag: string }>
const calls: Partial<Record<AccountsOperation, Call>> = {
  create: (a, s) => a.create({ accountType: "User" }, as(s)),
  update: (a, s) => a.update(jane, { fields: { phone_number: "1" } }, as(s)),
  redact: (a, s) => a.redact(jane, as(s)),
  addTag: (a, s) => a.addTag(jane, "x", as(s)),
  removeTag: (a, s) => a.removeTag(jane, "tag1", as(s)),
  changeTags: (a, s) => a.changeTags(jane, { add: ["y"] }, as(s)),
  setTags: (a, s) => a.setTags(jane, ["z"], as(s)),
  consolidate: (a, s) => a.consolidate(jane, [{ referenceId: "def-456" }], as(s)),
  addRelation: (a, s) => a.addRelation(jane, { key: "household", target: { referenceId: "def-456" } }, as(s)),
  removeRelation: (a, s) => a.removeRelation(jane, { key: "household", target: { referenceId: "def-456" } }, as(s)),
  lifecycle: (a, s) => a.lifecycle(jane, "disable", as(s)),
  runAction: (a, s) => a.runAction(jane, "Mark VIP", {}, as(s))
}

describe.each(backends)("the policy in the store ($name)", (backend) => {
  it.effect("refuses each change without its policy scope (audited), and allows it with only that scope", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      for (const [operation, call] of Object.entries(calls) as Array<[AccountsOperation, Call]>) {
        const { scope } = accountsPolicy[operation]
        const refused = yield* Effect.flip(call(accounts, ["account.read"]))
        expect(refused, operation).toMatchObject({ _tag: "Forbidden", missingScope: scope })
        const result = yield* Effect.either(call(accounts, [scope]))
        expect(result._tag === "Left" ? result.left._tag : "ok", operation).not.toBe("Forbidden")
      }
      const audited = yield* sql<{ operation: string; account_id: string | null }>`SELECT operation, account_id FROM audit_log WHERE outcome = 'refused:Forbidden'`
      expect(audited).toHaveLength(Object.keys(calls).length)
      // A refusal on a named account carries it, so the account's trail shows it; create names none.
      const janeId = (yield* accounts.get(jane)).id
      expect(audited.filter((entry) => entry.operation !== "create").map((entry) => entry.account_id)).toEqual(audited.slice(1).map(() => janeId))
      expect(audited.find((entry) => entry.operation === "create")?.account_id).toBeNull()
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("withPolicy refuses the same way before the wrapped implementation is reached", () =>
    Effect.gen(function* () {
      const accounts = withPolicy(yield* Accounts)
      const sql = yield* SqlClient.SqlClient
      for (const [operation, call] of Object.entries(calls) as Array<[AccountsOperation, Call]>) {
        expect(yield* Effect.flip(call(accounts, ["account.read"])), operation).toMatchObject({ _tag: "Forbidden", missingScope: accountsPolicy[operation].scope })
      }
      expect(yield* sql`SELECT outcome FROM audit_log WHERE outcome = 'refused:Forbidden'`).toEqual([])
    }).pipe((test) => onFreshStore(backend, test))
  )
})
