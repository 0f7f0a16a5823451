/** Relations between accounts: the catalog's schemas, the one mutation path, consolidation. */
import { Accounts } from "@acct/core"
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Either } from "effect"
import { afterAll } from "vitest"
import { loadCatalog, parseCatalog } from "../src/index.js"
import { as, backends, dropDatabases, jane, onFreshStore } from "./harness.js"

afterAll(dropDatabases)

const john = { referenceId: "def-456" } as const
const wei = { referenceId: "ghi-789" } as const

describe.each(backends)("relations ($name)", (backend) => {
  it.effect("relates, lists newest first in pages, unrelates; each change a version step with its audit entry", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      const before = yield* accounts.get(jane)
      const related = yield* accounts.addRelation(jane, { key: "household", target: john }, as())
      expect(related.version).toBe(before.version + 1)
      yield* accounts.addRelation(jane, { key: "household", target: wei }, as())
      // Relating twice changes nothing.
      const again = yield* accounts.addRelation(jane, { key: "household", target: john }, as())
      expect(again.version).toBe(before.version + 2)

      const first = yield* accounts.listRelations(jane, { key: "household", size: 1 })
      expect(first.items.map((a) => a.referenceId)).toEqual(["ghi-789"])
      expect(first.next).not.toBeNull()
      const second = yield* accounts.listRelations(jane, { key: "household", size: 1, after: first.next! })
      expect(second.items.map((a) => a.referenceId)).toEqual(["def-456"])
      expect(second.next).toBeNull()
      expect((yield* accounts.listRelations(jane, { key: "referred_by" })).items).toEqual([])

      const removed = yield* accounts.removeRelation(jane, { key: "household", target: wei }, as())
      expect(removed.version).toBe(before.version + 3)
      expect((yield* accounts.listRelations(jane, { key: "household" })).items.map((a) => a.referenceId)).toEqual(["def-456"])
      const audit = yield* sql<{ operation: string; outcome: string }>`SELECT operation, outcome FROM audit_log WHERE account_id = ${before.id} ORDER BY seq`
      expect(audit.map((a) => a.operation)).toEqual(["create", "add-relation", "add-relation", "remove-relation"])
      // Each change wrote its event, in its transaction (relating twice wrote none).
      const events = yield* sql<{ name: string; context: string }>`SELECT name, context FROM events WHERE object_id = ${before.id} AND name LIKE 'account.%-relation' ORDER BY seq`
      expect(events.map((e) => e.name)).toEqual(["account.added-relation", "account.added-relation", "account.removed-relation"])
      expect(JSON.parse(events[0]!.context)).toMatchObject({ relationSchemaKey: "household", targetAccountId: (yield* accounts.get(john)).id })
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("refuses what the relation schema does not allow, saying which field and why, and changes nothing", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const before = yield* accounts.get(jane)
      const unknownKey = yield* Effect.flip(accounts.addRelation(jane, { key: "spouse", target: john }, as()))
      expect(unknownKey).toMatchObject({ _tag: "Unprocessable", message: 'relation-schema-key: User accounts have the relations household, referred_by; got "spouse"' })
      const self = yield* Effect.flip(accounts.addRelation(jane, { key: "household", target: jane }, as()))
      expect(self.message).toContain("cannot be related to itself")
      const missing = yield* Effect.flip(accounts.addRelation(jane, { key: "household", target: { id: "act_000000000000000000000000" as never } }, as()))
      expect(missing).toMatchObject({ _tag: "Unprocessable" })
      expect(missing.message).toContain("target-object-id")
      const transaction = yield* Effect.flip(accounts.addRelation(jane, { key: "household", target: { id: "txn_ABC123" as never } }, as()))
      expect(transaction.message).toContain("relations to transactions are not available")
      // `one`: a second target is a conflict until the first is removed.
      yield* accounts.addRelation(jane, { key: "referred_by", target: john }, as())
      const second = yield* Effect.flip(accounts.addRelation(jane, { key: "referred_by", target: wei }, as()))
      expect(second).toMatchObject({ _tag: "Conflict" })
      expect(second.message).toContain("already points to")
      const notThere = yield* Effect.flip(accounts.removeRelation(jane, { key: "household", target: wei }, as()))
      expect(notThere).toMatchObject({ _tag: "NotFound" })
      const unknownList = yield* Effect.flip(accounts.listRelations(jane, { key: "spouse" }))
      expect(unknownList._tag).toBe("Unprocessable")
      expect((yield* accounts.get(jane)).version).toBe(before.version + 1)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("replays an add-relation by its idempotency key; the key on another relation is refused", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const keyed = { ...as(), idempotencyKey: "relate-1" }
      const first = yield* accounts.addRelation(jane, { key: "household", target: john }, keyed)
      yield* accounts.removeRelation(jane, { key: "household", target: john }, as())
      const replay = yield* accounts.addRelation(jane, { key: "household", target: john }, keyed)
      expect(replay).toEqual(first)
      expect((yield* accounts.listRelations(jane, { key: "household" })).items).toEqual([])
      const other = yield* Effect.flip(accounts.addRelation(jane, { key: "household", target: wei }, keyed))
      expect(other._tag).toBe("Unprocessable")
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("consolidation moves a source's relations, and relations to it, onto the destination", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const dup = { referenceId: "abc-123-dup" } as const
      const janeId = (yield* accounts.get(jane)).id
      const johnId = (yield* accounts.get(john)).id
      const dupId = (yield* accounts.get(dup)).id
      // Jane's old sign-up had a household and a referrer; John points at the old sign-up.
      yield* accounts.addRelation(dup, { key: "household", target: wei }, as())
      yield* accounts.addRelation(dup, { key: "household", target: jane }, as())
      yield* accounts.addRelation(dup, { key: "referred_by", target: wei }, as())
      yield* accounts.addRelation(jane, { key: "referred_by", target: john }, as())
      yield* accounts.addRelation(john, { key: "household", target: dup }, as())
      yield* accounts.addRelation(john, { key: "referred_by", target: dup }, as())

      const sql = yield* SqlClient.SqlClient
      const johnBefore = yield* accounts.get(john)
      const weiBefore = yield* accounts.get(wei)
      const lastEvent = (yield* sql<{ seq: number }>`SELECT COALESCE(MAX(seq), 0) AS seq FROM events`)[0]!.seq
      const lastAudit = (yield* sql<{ seq: number }>`SELECT COALESCE(MAX(seq), 0) AS seq FROM audit_log`)[0]!.seq

      yield* accounts.consolidate(jane, [dup], as())

      // Every account whose relations moved has its change: John's two relations to the old
      // sign-up now name Jane (a version step, an audit entry, removed + added events); Wei,
      // only a target, is unchanged; the source lost its three, Jane gained Wei.
      expect((yield* accounts.get(john)).version).toBe(johnBefore.version + 1)
      expect((yield* accounts.get(wei)).version).toBe(weiBefore.version)
      const events = yield* sql<{ name: string; account_id: string; context: string }>`SELECT name, account_id, context FROM events WHERE seq > ${lastEvent} AND name LIKE '%relation' ORDER BY seq`
      const moved = events.map((e) => [e.name, e.account_id, JSON.parse(e.context).relationSchemaKey, JSON.parse(e.context).targetAccountId])
      expect(moved).toEqual([
        ["account.removed-relation", dupId, "household", weiBefore.id],
        ["account.removed-relation", dupId, "household", janeId],
        ["account.removed-relation", dupId, "referred_by", weiBefore.id],
        ["account.added-relation", janeId, "household", weiBefore.id],
        ["account.removed-relation", johnId, "household", dupId],
        ["account.added-relation", johnId, "household", janeId],
        ["account.removed-relation", johnId, "referred_by", dupId],
        ["account.added-relation", johnId, "referred_by", janeId]
      ])
      const audit = yield* sql<{ operation: string; account_id: string }>`SELECT operation, account_id FROM audit_log WHERE seq > ${lastAudit} ORDER BY seq`
      expect(audit.map((a) => [a.operation, a.account_id])).toEqual([
        ["consolidate-source", dupId],
        ["consolidate", janeId],
        ["consolidate-relations", johnId]
      ])

      // Jane gains Wei (not herself); her own referrer wins over the old sign-up's (one).
      expect((yield* accounts.listRelations(jane, { key: "household" })).items.map((a) => a.referenceId)).toEqual(["ghi-789"])
      expect((yield* accounts.listRelations(jane, { key: "referred_by" })).items.map((a) => a.id)).toEqual([johnId])
      // John's relations to the old sign-up now name Jane.
      expect((yield* accounts.listRelations(john, { key: "household" })).items.map((a) => a.id)).toEqual([janeId])
      expect((yield* accounts.listRelations(john, { key: "referred_by" })).items.map((a) => a.id)).toEqual([janeId])
      // The archived source keeps none.
      const left = yield* sql<{ n: number | string }>`SELECT count(*) AS n FROM account_relations WHERE account_id = ${dupId} OR target_id = ${dupId}`
      expect(Number(left[0]!.n)).toBe(0)
    }).pipe((test) => onFreshStore(backend, test))
  )
})

describe.each(backends)("relation schemas in a catalog file ($name)", (backend) => {
  const business = (relations: ReadonlyArray<unknown>) =>
    JSON.stringify({
      accountTypes: [{ name: "Business", fields: [], relations, statuses: ["active"], defaultStatus: "active", lifecycle: { active: "active", enabled: "active", disabled: "active" } }]
    })

  it("refuse a cardinality other than one or many, with its path", () => {
    const parsed = parseCatalog(business([{ key: "parent", targetType: "Business", cardinality: "several" }]), "catalog.json")
    expect(Either.isLeft(parsed) && parsed.left.message).toBe('catalog.json: invalid catalog: accountTypes[0].relations[0].cardinality: expected "one" or "many", got "several"')
  })

  it.effect("refuse an unknown target type and a duplicate key, and load nothing; a good one is listed on its type", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const bad = Either.getOrThrow(parseCatalog(business([{ key: "owners", targetType: "Person" }, { key: "owners", targetType: "User" }]), "catalog.json"))
      const error = yield* Effect.flip(loadCatalog(bad, "catalog.json"))
      expect(error.message).toContain('accountTypes[0].relations[0].targetType: unknown account type "Person"')
      expect(error.message).toContain('accountTypes[0].relations[1].key: duplicate relation key "owners"')
      expect((yield* accounts.listTypes()).map((t) => t.name)).toEqual(["User"])
      yield* loadCatalog(Either.getOrThrow(parseCatalog(business([{ key: "owners", targetType: "User" }]), "catalog.json")), "catalog.json")
      expect((yield* accounts.getType("Business")).relations).toEqual([{ key: "owners", targetType: "User", cardinality: "many" }])
    }).pipe((test) => onFreshStore(backend, test))
  )
})
