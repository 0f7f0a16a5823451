import { type Account, Accounts, type SearchAccountsQuery, type SearchNode } from "@acct/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { afterAll } from "vitest"
import { demoCatalog, loadCatalog, parseCatalog } from "../src/index.js"
import { as, backends, dropDatabases, jane, onFreshStore } from "./harness.js"

afterAll(dropDatabases)

/** Reference ids, or first names for the accounts without one. */
const refs = (accounts: ReadonlyArray<Account>) => accounts.map((a) => a.referenceId ?? (a.fields.name?.value as { first: { value: string } } | undefined)?.first.value)

/** Every page of a search, following `next`; then back again with `prev`, which must give the same pages. */
const walk = (query: SearchAccountsQuery) =>
  Effect.gen(function* () {
    const accounts = yield* Accounts
    const forward: Array<ReadonlyArray<Account>> = []
    let page = yield* accounts.search(query)
    forward.push(page.items)
    while (page.next) {
      page = yield* accounts.search({ ...query, after: page.next })
      forward.push(page.items)
    }
    const backward: Array<ReadonlyArray<Account>> = []
    while (page.prev) {
      page = yield* accounts.search({ ...query, before: page.prev, after: undefined })
      backward.unshift(page.items)
    }
    if (forward.length > 1) expect(backward.map((p) => p.map((a) => a.id))).toEqual(forward.slice(0, -1).map((p) => p.map((a) => a.id)))
    return forward.flat()
  })

const devices = {
  accountTypes: [{
    name: "Device",
    statuses: ["on", "off"],
    defaultStatus: "on",
    lifecycle: { active: "on", enabled: "on", disabled: "off" },
    fields: [{ key: "seats", type: "integer", searchable: true }, { key: "label", type: "string" }, { key: "managed", type: "boolean", searchable: true }]
  }]
}

const load = (catalog: unknown) => loadCatalog(Either.getOrThrow(parseCatalog(JSON.stringify(catalog), "test.json")), "test")

describe.each(backends)("search ($name)", (backend) => {
  const search = (query: SearchNode | undefined, more: Partial<SearchAccountsQuery> = {}) => Effect.flatMap(Accounts, (a) => a.search({ query, size: 100, ...more }))

  it.effect("finds by a searchable field (emails in any case), by boolean queries and with not", () =>
    Effect.gen(function* () {
      expect(refs((yield* search({ attribute: "fields.email_address", operator: "eq", value: "JANE@doe.com" })).items)).toEqual(["abc-123"])
      expect(refs((yield* search({ attribute: "fields.name.last", operator: "eq", value: "O'Brien" })).items)).toEqual(["Liam"])
      const disabledTagged = yield* search({ and: [{ attribute: "status", operator: "eq", value: "disabled" }, { or: [{ attribute: "tags", operator: "eq", value: "vip" }, { attribute: "tags", operator: "eq", value: "legacy" }] }] })
      expect(refs(disabledTagged.items)).toEqual(["abc-123-dup", "ghi-789"])
      // `not` of a reference id matches the accounts that have none, too.
      const notJane = yield* search({ not: { attribute: "identifiers.reference_id", operator: "eq", value: "abc-123" } })
      expect(notJane.items).toHaveLength(5)
      // Under not, field and tag predicates are probes per account: the same answers.
      expect((yield* search({ not: { attribute: "tags", operator: "eq", value: "vip" } })).items).toHaveLength(4)
      expect(refs((yield* search({ and: [{ attribute: "status", operator: "eq", value: "disabled" }, { not: { attribute: "fields.name.last", operator: "eq", value: "Doe" } }] })).items)).toEqual(["ghi-789"])
      expect(refs((yield* search({ and: [{ attribute: "fields.birthdate", operator: "gte", value: "1990-01-01" }, { attribute: "type", operator: "eq", value: "User" }] })).items)).toEqual(["abc-123"])
      // it.effect's TestClock: everything was created at the epoch.
      expect((yield* search({ attribute: "created_at", operator: "gte", value: "1970-01-01" })).items).toHaveLength(6)
      expect((yield* search({ attribute: "created_at", operator: "gt", value: "1970-01-01T00:00:01Z" })).items).toHaveLength(0)
      expect((yield* search(undefined)).items).toHaveLength(6)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("names the bad predicate", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(search({ and: [{ attribute: "status", operator: "eq", value: "disabled" }, { attribute: "fields.phone_number", operator: "eq", value: "1" }] }))
      expect(error._tag).toBe("InvalidRequest")
      expect(error.message).toMatch(/^query\.and\[1\]\.attribute: "fields\.phone_number" is not a searchable field; searchable: fields\.name\.first/)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("keeps search in step with changes, redaction and consolidation", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const byEmail = (email: string) => Effect.map(search({ attribute: "fields.email_address", operator: "eq", value: email }), (p) => refs(p.items))
      yield* accounts.runAction(jane, "Update contact", { email_address: "jane@new.example" }, as())
      expect(yield* byEmail("jane@doe.com")).toEqual([])
      expect(yield* byEmail("jane@new.example")).toEqual(["abc-123"])
      // A consolidated source is archived: search, like the list, leaves it out.
      yield* accounts.consolidate(jane, [{ referenceId: "abc-123-dup" }], as())
      expect(yield* byEmail("jane.doe@oldmail.example")).toEqual([])
      yield* accounts.redact(jane, as())
      expect(yield* byEmail("jane@new.example")).toEqual([])
      expect(refs((yield* search({ attribute: "fields.name.first", operator: "eq", value: "Jane" })).items)).toEqual([])
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("makes existing accounts searchable when the catalog marks a field searchable", () =>
    Effect.gen(function* () {
      const phone = { attribute: "fields.phone_number", operator: "eq", value: "111-222-3333" } as const
      expect((yield* Effect.flip(search(phone)))._tag).toBe("InvalidRequest")
      const user = demoCatalog.accountTypes![0]!
      yield* load({ accountTypes: [{ ...user, fields: user.fields.map((f) => (f.key === "phone_number" ? { ...f, searchable: true } : f)) }] })
      expect(refs((yield* search(phone)).items)).toEqual(["abc-123"])
      yield* load({ accountTypes: [user] })
      expect((yield* Effect.flip(search(phone)))._tag).toBe("InvalidRequest")
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("compares numbers as numbers and booleans with eq", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      yield* load(devices)
      for (const [i, seats] of [9, 10, 100, 2].entries()) yield* accounts.create({ accountType: "Device", referenceId: `d-${seats}`, fields: { seats, managed: i % 2 === 0 } }, as())
      expect(refs((yield* search({ attribute: "fields.seats", operator: "gt", value: 9 })).items)).toEqual(["d-100", "d-10"])
      expect(refs((yield* search({ and: [{ attribute: "fields.seats", operator: "lte", value: "10" }, { attribute: "fields.managed", operator: "eq", value: true }] })).items)).toEqual(["d-9"])
      expect(refs(yield* walk({ query: { attribute: "type", operator: "eq", value: "Device" }, sort: { attribute: "fields.seats", direction: "asc" }, size: 1 }))).toEqual(["d-2", "d-9", "d-10", "d-100"])
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("sorts and pages both ways, missing values last, ties by age", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      for (let i = 0; i < 7; i++) yield* accounts.create({ accountType: "User", referenceId: `p-${i}`, fields: { name: { first: `P${i}`, last: i % 3 === 0 ? null : `L${i % 2}` } } }, as())
      const all = (yield* accounts.list({ size: 100 })).items
      expect(all).toHaveLength(13)
      const lastName = (a: Account) => ((a.fields.name?.value as Record<string, { value: string | null }> | undefined)?.last?.value ?? null)
      for (const direction of ["asc", "desc"] as const) {
        const expected = [...all].sort((a, b) => {
          const [x, y] = [lastName(a), lastName(b)]
          if (x !== y) return x === null ? 1 : y === null ? -1 : (x < y ? -1 : 1) * (direction === "asc" ? 1 : -1)
          return (all.indexOf(b) - all.indexOf(a)) * (direction === "asc" ? 1 : -1)
        })
        for (const size of [1, 2, 5]) {
          const walked = yield* walk({ sort: { attribute: "fields.name.last", direction }, size })
          expect(walked.map((a) => a.id), `${direction} by ${size}`).toEqual(expected.map((a) => a.id))
        }
      }
      const byCreation = yield* walk({ sort: { attribute: "created_at", direction: "asc" }, size: 4 })
      expect(byCreation.map((a) => a.id)).toEqual([...all].reverse().map((a) => a.id))
      expect((yield* walk({ size: 3 })).map((a) => a.id)).toEqual(all.map((a) => a.id))
    }).pipe((test) => onFreshStore(backend, test))
  )
})
