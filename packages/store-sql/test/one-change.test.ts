/** One change is one change: several tags, several fields, several sources — one step or nothing. */
import { Accounts, plainValue } from "@acct/core"
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { afterAll } from "vitest"
import { as, backends, dropDatabases, jane, onFreshStore } from "./harness.js"

afterAll(dropDatabases)

const auditOk = (accountId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ operation: string }>`SELECT operation FROM audit_log WHERE account_id = ${accountId} AND outcome = 'ok' AND operation <> 'create' ORDER BY seq`)

describe.each(backends)("one change is one change ($name)", (backend) => {
  it.effect("adding and removing several tags: one version step, one audit entry", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const before = yield* accounts.get(jane)
      const tagged = yield* accounts.changeTags(jane, { add: ["a", "b"] }, as())
      expect(tagged.tags).toEqual(["tag1", "tag2", "a", "b"])
      expect(tagged.version).toBe(before.version + 1)
      const both = yield* accounts.changeTags(jane, { add: ["c"], remove: ["a", "tag1"] }, as())
      expect(both.tags).toEqual(["tag2", "b", "c"])
      expect(both.version).toBe(before.version + 2)
      expect((yield* auditOk(before.id)).map((r) => r.operation)).toEqual(["change-tags", "change-tags"])
      // Nothing to change: no new version.
      expect((yield* accounts.changeTags(jane, { add: ["c"], remove: ["a"] }, as())).version).toBe(both.version)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("a pinned version that moved, or one bad tag, leaves every tag unapplied", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const before = yield* accounts.get(jane)
      yield* accounts.addTag(jane, "moved", as())
      const stale = yield* Effect.flip(accounts.changeTags(jane, { add: ["c", "d"] }, { ...as(), expectedVersion: before.version }))
      expect(stale._tag).toBe("Conflict")
      const bad = yield* Effect.flip(accounts.changeTags(jane, { add: ["c", "bad,tag"] }, as()))
      expect(bad._tag).toBe("Unprocessable")
      const twice = yield* Effect.flip(accounts.changeTags(jane, { add: ["c"], remove: ["c"] }, as()))
      expect(twice.message).toContain('tag "c" is both added and removed')
      const after = yield* accounts.get(jane)
      expect(after.tags).toEqual(["tag1", "tag2", "moved"])
      expect(after.version).toBe(before.version + 1)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("setting several fields is one step; one bad field applies none", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const before = yield* accounts.get(jane)
      const bad = yield* Effect.flip(accounts.update(jane, { fields: { phone_number: "555-0100", birthdate: "yesterday" } }, as()))
      expect(bad._tag).toBe("Unprocessable")
      expect(yield* accounts.get(jane)).toEqual(before)
      const after = yield* accounts.update(jane, { fields: { phone_number: "555-0100", email_address: "j@d.io" } }, as())
      expect([plainValue(after.fields.phone_number!), plainValue(after.fields.email_address!)]).toEqual(["555-0100", "j@d.io"])
      expect(after.version).toBe(before.version + 1)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("consolidating several sources is one step of the destination; a failing source applies none", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      const a = yield* accounts.create({ accountType: "User", tags: ["from-a"] }, as())
      const b = yield* accounts.create({ accountType: "User", tags: ["from-b"] }, as())
      const before = yield* accounts.get(jane)
      const failed = yield* Effect.flip(accounts.consolidate(jane, [{ id: a.id }, { id: a.id }], as()))
      expect(failed._tag).toBe("Unprocessable")
      expect((yield* accounts.get({ id: a.id })).consolidatedInto).toBeNull()
      const merged = yield* accounts.consolidate(jane, [{ id: a.id }, { id: b.id }], as())
      expect(merged.tags).toEqual(["tag1", "tag2", "from-a", "from-b"])
      expect(merged.version).toBe(before.version + 1)
      const entries = yield* sql<{ operation: string }>`SELECT operation FROM audit_log WHERE account_id = ${before.id} AND outcome = 'ok' AND operation <> 'create'`
      expect(entries).toEqual([{ operation: "consolidate" }])
    }).pipe((test) => onFreshStore(backend, test))
  )
})
