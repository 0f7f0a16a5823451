import { type Account, Accounts, type AccountRef, isEmptyValue, type Page } from "@acct/core"
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Exit } from "effect"
import { afterAll } from "vitest"
import { as, backends, demoStore, dropDatabases, jane, onFreshStore } from "./harness.js"

afterAll(dropDatabases)

describe.each(backends)("accounts store ($name)", (backend) => {
  it.effect("seeds the demo accounts, Jane first by reference id", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const janeAccount = yield* accounts.get(jane)
      expect(janeAccount.accountTypeName).toBe("User")
      expect(janeAccount.tags).toEqual(["tag1", "tag2"])
      expect(janeAccount.fields.name).toEqual({
        type: "hash",
        value: { first: { type: "string", value: "Jane" }, middle: { type: "string", value: "Marie" }, last: { type: "string", value: "Doe" } }
      })
      const all = yield* accounts.list({ size: 100 })
      expect(all.items.length).toBe(6)
      expect(all.items.filter((a) => a.referenceId === null).length).toBe(2)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("runs Set status: account change, run record and audit entry together", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      const { account, run } = yield* accounts.runAction(jane, "Set status", { status: "activated" }, as())
      expect(account.status).toBe("activated")
      expect(run.id).toMatch(/^wfr_[A-Za-z0-9]{24}$/)
      expect(run).toMatchObject({ actionName: "Set status", statusBefore: "deactivated", statusAfter: "activated", parameters: { status: "activated" } })
      expect((yield* accounts.getRun(run.id)).accountId).toBe(account.id)
      const audit = yield* sql<{ operation: string; run_id: string; actor_id: string; channel: string; status_before: string; status_after: string }>`SELECT * FROM audit_log WHERE account_id = ${account.id} AND operation = 'run-action'`
      expect(audit).toMatchObject([{ run_id: run.id, actor_id: "tester", channel: "cli", status_before: "deactivated", status_after: "activated" }])
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("applies nothing when a step of an action fails", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      // Wei is disabled: "Reinstate" enables, then removes a tag — make the first step fail instead.
      const wei = yield* accounts.get({ referenceId: "ghi-789" })
      yield* accounts.lifecycle({ id: wei.id }, "enable", as())
      const before = yield* accounts.get({ id: wei.id })
      const runsBefore = (yield* accounts.listRuns({ account: { id: wei.id } })).items.length
      const error = yield* Effect.flip(accounts.runAction({ id: wei.id }, "Reinstate", {}, as()))
      expect(error._tag).toBe("InvalidState")
      expect(yield* accounts.get({ id: wei.id })).toEqual(before)
      expect((yield* accounts.listRuns({ account: { id: wei.id } })).items.length).toBe(runsBefore)
      const refused = yield* sql<{ outcome: string }>`SELECT outcome FROM audit_log WHERE operation = 'run-action'`
      expect(refused).toEqual([{ outcome: "refused:InvalidState" }])
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("checks permissions per operation before touching anything", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const readOnly = as(["account.read"])
      const denied = yield* Effect.flip(accounts.runAction(jane, "Set status", { status: "disabled" }, readOnly))
      expect(denied).toMatchObject({ _tag: "Forbidden", missingScope: "account.action" })
      expect((yield* Effect.flip(accounts.redact(jane, as(["account.write"]))))).toMatchObject({ _tag: "Forbidden", missingScope: "account.redact" })
      expect((yield* accounts.get(jane)).status).toBe("deactivated")
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("idempotency: the same key replays the first result, another request with it is refused", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const inv = { ...as(), idempotencyKey: "key-1" }
      const first = yield* accounts.runAction(jane, "Set status", { status: "activated" }, inv)
      const again = yield* accounts.runAction(jane, "Set status", { status: "activated" }, inv)
      expect(again.run.id).toBe(first.run.id)
      expect(again.account.version).toBe(first.account.version)
      expect((yield* accounts.listRuns({ account: jane })).items.length).toBe(1)
      const mismatch = yield* Effect.flip(accounts.runAction(jane, "Set status", { status: "disabled" }, inv))
      expect(mismatch._tag).toBe("Unprocessable")
      expect(mismatch.message).toContain('idempotency key "key-1" was already used for a different request')
      // Keys are per principal: another actor's key-1 is a separate request.
      const other = yield* accounts.runAction(jane, "Set status", { status: "disabled" }, { ...as(["admin"], "someone-else"), idempotencyKey: "key-1" })
      expect(other.account.status).toBe("disabled")
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("two writers holding the same version: one wins, the other gets a Conflict", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const seen = yield* accounts.get(jane)
      const results = yield* Effect.all(
        [
          Effect.exit(accounts.addTag(jane, "writer-a", { ...as(), expectedVersion: seen.version })),
          Effect.exit(accounts.addTag(jane, "writer-b", { ...as(), expectedVersion: seen.version }))
        ],
        { concurrency: 2 }
      )
      expect(results.filter(Exit.isSuccess).length).toBe(1)
      const failure = results.find(Exit.isFailure)!
      expect(Exit.isFailure(failure) && JSON.stringify(failure.cause)).toContain("Conflict")
      const after = yield* accounts.get(jane)
      expect(after.version).toBe(seen.version + 1)
      expect(after.tags.filter((t) => t.startsWith("writer-")).length).toBe(1)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("two connections writing the same account without pinned versions lose no update", () => {
    let file = ""
    const writer = (tag: string) =>
      Effect.gen(function* () {
        const accounts = yield* Accounts
        for (let i = 0; i < 20; i++) yield* accounts.addTag(jane, `${tag}-${i}`, as())
      }).pipe(Effect.provide(demoStore(file, false)))
    return Effect.gen(function* () {
      file = yield* Effect.promise(() => backend.fresh())
      yield* Effect.provide(Effect.void, demoStore(file))
      yield* Effect.all([writer("a"), writer("b")], { concurrency: 2 })
      const after = yield* Effect.flatMap(Accounts, (a) => a.get(jane)).pipe(Effect.provide(demoStore(file, false)))
      expect(after.tags.length).toBe(42)
      expect(after.version).toBe(41)
    })
  })

  it.effect("redaction wipes every field value, sets redacted-at, keeps the account, and is irreversible", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const redacted = yield* accounts.redact(jane, as())
      expect(redacted.redactedAt).toBeInstanceOf(Date)
      expect(Object.values(redacted.fields).every(isEmptyValue)).toBe(true)
      expect(redacted.fields.name).toEqual({
        type: "hash",
        value: { first: { type: "string", value: null }, middle: { type: "string", value: null }, last: { type: "string", value: null } }
      })
      expect(redacted.fields.identification_numbers).toEqual({ type: "array", value: [] })
      expect(redacted.referenceId).toBe("abc-123")
      const refused = yield* Effect.flip(accounts.update(jane, { fields: { phone_number: "555" } }, as()))
      expect(refused._tag).toBe("InvalidState")
      expect(refused.message).toContain("was redacted")
      expect(yield* accounts.redact(jane, as())).toEqual(redacted)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("consolidation merges into the destination and archives the sources", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const page = yield* accounts.list({ size: 100 })
      const maria = page.items.find((a) => (a.fields.name?.value as Record<string, { value: string }> | null)?.first?.value === "María")!
      const result = yield* accounts.consolidate(jane, [{ id: maria.id }], as())
      expect(result.tags).toEqual(["tag1", "tag2", "trial"])
      // Jane's own email stays; Maria's only fills gaps.
      expect(result.fields.email_address?.value).toBe("jane@doe.com")
      const source = yield* accounts.get({ id: maria.id })
      expect(source.consolidatedInto).toBe(result.id)
      expect((yield* accounts.list({ size: 100 })).items.some((a) => a.id === maria.id)).toBe(false)
      expect((yield* accounts.list({ size: 100, includeArchived: true })).items.some((a) => a.id === maria.id)).toBe(true)
      const again = yield* Effect.flip(accounts.lifecycle({ id: maria.id }, "enable", as()))
      expect(again.message).toContain("was consolidated into")
      const self = yield* Effect.flip(accounts.consolidate(jane, [jane], as()))
      expect(self._tag).toBe("Unprocessable")
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("validates create input field by field and changes nothing", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const error = yield* Effect.flip(
        accounts.create({ accountType: "User", fields: { birthdate: "yesterday", name: { first: 1 }, shoe_size: 42 } }, as())
      )
      expect(error._tag).toBe("Unprocessable")
      expect(error.message).toContain("fields.shoe_size: unknown field")
      expect(error.message).toContain("fields.name.first: expected a string, got number")
      expect(error.message).toContain("fields.birthdate: expected a date as YYYY-MM-DD")
      expect((yield* accounts.list({ size: 100 })).items.length).toBe(6)
      const dup = yield* Effect.flip(accounts.create({ accountType: "User", referenceId: "abc-123" }, as()))
      expect(dup._tag).toBe("Conflict")
      expect((yield* Effect.flip(accounts.create({ accountType: "Robot" }, as())))._tag).toBe("NotFound")
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("pagination walks 250 accounts forward and back: no duplicates, none missing", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const created = new Set<string>((yield* accounts.list({ size: 100 })).items.map((a) => a.id))
      for (let i = 0; i < 244; i++) created.add((yield* accounts.create({ accountType: "User", referenceId: `bulk-${i}` }, as())).id)
      expect(created.size).toBe(250)

      const forward: Array<Account> = []
      let after: string | undefined
      let pages = 0
      do {
        const page = yield* accounts.list({ size: 7, after })
        forward.push(...page.items)
        after = page.next ?? undefined
        pages++
      } while (after)
      expect(pages).toBe(Math.ceil(250 / 7))
      expect(new Set(forward.map((a) => a.id))).toEqual(created)
      expect(forward.length).toBe(250)

      const backward: Array<Account> = []
      let before: string | undefined = forward[forward.length - 1]!.id
      while (before) {
        const page: Page<Account> = yield* accounts.list({ size: 9, before })
        backward.unshift(...page.items)
        before = page.prev ?? undefined
      }
      expect(backward.map((a) => a.id)).toEqual(forward.slice(0, -1).map((a) => a.id))

      const bad = yield* Effect.flip(accounts.list({ size: 101 }))
      expect(bad.message).toContain("page size must be an integer from 1 to 100")
      expect((yield* Effect.flip(accounts.list({ after: "act_nopenopenopenopenopenope" }))).message).toContain("page[after]")
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("filters by reference id, status, tag and type", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const ids = (page: { items: ReadonlyArray<Account> }) => page.items.map((a) => a.referenceId)
      expect(ids(yield* accounts.list({ referenceId: "abc-123" }))).toEqual(["abc-123"])
      expect(ids(yield* accounts.list({ referenceId: ["abc-123", "ghi-789", "nope"] }))).toEqual(["ghi-789", "abc-123"])
      expect(ids(yield* accounts.list({ referenceId: [] }))).toEqual([])
      expect(ids(yield* accounts.list({ tag: "vip" }))).toEqual(["ghi-789", "def-456"])
      expect((yield* accounts.list({ status: "disabled" })).items.length).toBe(2)
      expect((yield* accounts.list({ accountType: "User", size: 100 })).items.length).toBe(6)
      expect((yield* Effect.flip(accounts.list({ accountType: "Nope" })))._tag).toBe("NotFound")
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("lifecycle through the store records a run per operation", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const ref: AccountRef = { referenceId: "ghi-789" } // disabled, with external id
      expect((yield* accounts.lifecycle(ref, "enable", as())).account.status).toBe("activated")
      expect((yield* accounts.lifecycle(ref, "deactivate", as())).account.status).toBe("deactivated")
      const refused = yield* Effect.flip(accounts.lifecycle(ref, "deactivate", as()))
      expect(refused.message).toContain("it is Enabled; deactivate applies to Active accounts")
      const runs = yield* accounts.listRuns({ account: ref })
      expect(runs.items.map((r) => r.actionName)).toEqual(["deactivate", "enable"])
    }).pipe((test) => onFreshStore(backend, test))
  )
})
