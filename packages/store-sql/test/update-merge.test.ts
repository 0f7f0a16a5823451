/** Updates change only what they name: JSON merge patch within hash fields. */
import { Accounts, plainValue } from "@acct/core"
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { afterAll } from "vitest"
import { as, backends, dropDatabases, jane, onFreshStore } from "./harness.js"

afterAll(dropDatabases)

const plain = (fields: Record<string, { type: string; value: unknown }>, key: string) => plainValue(fields[key]!)

describe.each(backends)("updates merge into hash fields ($name)", (backend) => {
  it.effect("a named key changes, the other keys of the hash keep their values", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const before = yield* accounts.get(jane)
      // The README's example: `acct accounts update abc-123 phone_number=555-0100 address.city=Oakland`.
      const after = yield* accounts.update(jane, { fields: { phone_number: "555-0100", address: { city: "Oakland" } } }, as())
      expect(plain(after.fields, "phone_number")).toBe("555-0100")
      expect(plain(after.fields, "address")).toEqual({ ...(plain(before.fields, "address") as object), city: "Oakland" })
      expect((plain(after.fields, "address") as Record<string, unknown>).street_1).not.toBeNull()
      expect(after.fields.name).toEqual(before.fields.name)
      expect(after.version).toBe(before.version + 1)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("typed input merges the same way; null clears only the key it names", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      // HTTP PATCH {"fields":{"name":{"middle":"King"}}}, in Persona's typed form too.
      const king = yield* accounts.update(jane, { fields: { name: { type: "hash", value: { middle: { type: "string", value: "King" } } } } }, as())
      expect(plain(king.fields, "name")).toEqual({ first: "Jane", middle: "King", last: "Doe" })
      const cleared = yield* accounts.update(jane, { fields: { name: { middle: null } } }, as())
      expect(plain(cleared.fields, "name")).toEqual({ first: "Jane", middle: null, last: "Doe" })
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("arrays are replaced whole, and a bad key inside a hash is still refused", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const ids = [{ identification_class: "pp", identification_number: "X1", issuing_country: "US" }]
      const after = yield* accounts.update(jane, { fields: { identification_numbers: ids } }, as())
      expect(plain(after.fields, "identification_numbers")).toEqual(ids)
      const bad = yield* Effect.flip(accounts.update(jane, { fields: { address: { town: "Oakland" } } }, as()))
      expect(bad.message).toContain("fields.address.town: unknown key")
      expect((yield* accounts.get(jane)).version).toBe(after.version)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("status, tags and fields change together: one version step, or nothing", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const before = yield* accounts.get(jane)
      const after = yield* accounts.update(jane, { status: "activated", tags: ["b", "a"], fields: { name: { first: "Janet" } } }, as())
      expect(after).toMatchObject({ status: "activated", tags: ["b", "a"], version: before.version + 1 })
      expect(plain(after.fields, "name")).toEqual({ first: "Janet", middle: "Marie", last: "Doe" })
      const refused = yield* Effect.flip(accounts.update(jane, { status: "sideways", tags: ["c"] }, as()))
      expect(refused.message).toContain("status: expected one of pending, activated, deactivated, disabled")
      expect(yield* accounts.get(jane)).toMatchObject({ status: "activated", tags: ["b", "a"], version: after.version })
    }).pipe((test) => onFreshStore(backend, test))
  )
})

describe("an update writes only the columns it changed (sqlite)", () => {
  const sqlite = backends.find((b) => b.name === "sqlite")!
  it.effect("a status change leaves the fields, tags and reference id unwritten; a tag change writes the tags only", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      // What each UPDATE named in its SET list, whatever the values.
      yield* sql`CREATE TABLE touched (col TEXT)`
      for (const col of ["status", "fields", "tags", "reference_id"]) {
        yield* sql.unsafe(`CREATE TRIGGER touched_${col} AFTER UPDATE OF ${col} ON accounts BEGIN INSERT INTO touched VALUES ('${col}'); END`)
      }
      const touched = Effect.map(sql<{ col: string }>`SELECT col FROM touched`, (rows) => rows.map((r) => r.col).sort())
      const before = yield* accounts.get(jane)
      yield* accounts.lifecycle(jane, before.status === "activated" ? "deactivate" : "activate", as())
      expect(yield* touched).toEqual(["status"])
      yield* sql`DELETE FROM touched`
      const tagged = yield* accounts.addTag(jane, "only-tags", as())
      expect(yield* touched).toEqual(["tags"])
      yield* sql`DELETE FROM touched`
      yield* accounts.update(jane, { fields: { phone_number: "555-0199" } }, as())
      expect(yield* touched).toEqual(["fields"])
      // And what was written reads back whole.
      const after = yield* accounts.get(jane)
      expect(after.tags).toEqual(tagged.tags)
      expect(plain(after.fields, "phone_number")).toBe("555-0199")
      expect(after.fields.name).toEqual(before.fields.name)
    }).pipe((test) => onFreshStore(sqlite, test))
  )
})
