/**
 * Redaction is complete and final: after it, no table (and on SQLite, not the checkpointed file
 * itself) holds the personal data the account had — in its fields, its runs' parameters and
 * events, the outbox, audit reasons, or stored idempotency records (results and refusals). Replays answer the redacted account; a redacted account never regains data.
 */
import { Account, Accounts, isEmptyValue } from "@acct/core"
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Schema, TestClock } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { afterAll } from "vitest"
import { as, backends, demoStore, dropDatabases } from "./harness.js"

afterAll(dropDatabases)

const EMAIL = "zebulon.quux@example.org"
const PHONE = "555-8642-977"
const FIRST = "Zebulon"
const LAST = "Quuxley"
const EMAIL_2 = "zq.second@example.org"
const PHONE_2 = "555-1357-246"
const personal = [EMAIL, PHONE, FIRST, LAST, EMAIL_2, PHONE_2]

const input = { accountType: "User", referenceId: "zq-1", fields: { name: { first: FIRST, last: LAST }, email_address: EMAIL, phone_number: PHONE } }

/** Every row of every table, as text. */
const everyTable = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const tables = yield* sql.onDialectOrElse({
    pg: () => sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`,
    orElse: () => sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`
  })
  const dump: Record<string, string> = {}
  for (const { name } of tables) dump[name] = JSON.stringify(yield* sql.unsafe(`SELECT * FROM ${name}`))
  return dump
})

const leaks = (text: string) => personal.filter((p) => text.toLowerCase().includes(p.toLowerCase()))

describe.each(backends)("redaction ($name)", (backend) => {
  it.effect("leaves the personal data nowhere: tables, file, replays", () =>
    Effect.gen(function* () {
      const database = yield* Effect.promise(() => backend.fresh())
      yield* Effect.gen(function* () {
        const accounts = yield* Accounts
        const sql = yield* SqlClient.SqlClient
        const created = yield* accounts.create(input, { ...as(), idempotencyKey: "create-z", reason: `new customer ${EMAIL}` })
        const ref = { id: created.id }
        const contact = { email_address: EMAIL_2, phone_number: PHONE_2 }
        yield* accounts.runAction(ref, "Update contact", contact, { ...as(), idempotencyKey: "contact-z", reason: `per ${FIRST}'s call` })
        yield* accounts.runAction(ref, "Suspend for review", { reason: `${FIRST} ${LAST} phoned in` }, { ...as(), idempotencyKey: "suspend-z" })
        yield* Effect.flip(accounts.lifecycle(ref, "activate", { ...as(), reason: `${LAST} insists` }))
        // A refusal kept as a key's record, quoting the account's data.
        const refused = yield* Effect.flip(accounts.runAction(ref, "Update contact", { email_address: `${FIRST} ${LAST}` }, { ...as(), idempotencyKey: "bad-contact-z" }))
        expect(refused._tag).toBe("Unprocessable")
        expect(Object.values(yield* everyTable).some((t) => leaks(t).length > 0)).toBe(true)

        const redacted = yield* accounts.redact(ref, { ...as(), reason: `GDPR erasure for ${EMAIL}` })
        expect(Object.values(redacted.fields).every(isEmptyValue)).toBe(true)

        const dump = yield* everyTable
        const found = Object.entries(dump).flatMap(([table, text]) => leaks(text).map((p) => `${table}: ${p}`))
        expect(found).toEqual([])
        // Keys and the run's shape stay.
        const runs = yield* accounts.listRuns({ account: ref })
        expect(runs.items.find((r) => r.actionName === "Update contact")?.parameters).toEqual({ email_address: null, phone_number: null })
        expect(runs.items.find((r) => r.actionName === "Suspend for review")?.events).toEqual([{ event: "account.suspended", data: { reason: null, "account-id": created.id } }])

        // Replays answer the redacted account, never the old body.
        const replayed = yield* accounts.create(input, { ...as(), idempotencyKey: "create-z" })
        expect(replayed.redactedAt).not.toBeNull()
        expect(Object.values(replayed.fields).every(isEmptyValue)).toBe(true)
        const run = yield* accounts.runAction(ref, "Update contact", contact, { ...as(), idempotencyKey: "contact-z" })
        expect(run.run.parameters).toEqual({ email_address: null, phone_number: null })
        expect(run.account.redactedAt).not.toBeNull()

        if (backend.name === "sqlite") {
          expect(yield* sql<{ secure_delete: number }>`PRAGMA secure_delete`).toEqual([{ secure_delete: 1 }])
          yield* sql`PRAGMA wal_checkpoint(TRUNCATE)`
          const file = readFileSync(database).toString("latin1") + (existsSync(`${database}-wal`) ? readFileSync(`${database}-wal`).toString("latin1") : "")
          expect(leaks(file)).toEqual([])
        }
      }).pipe(Effect.provide(demoStore(database)))
    })
  )

  it.effect("a redacted account never regains personal data through consolidation", () =>
    Effect.gen(function* () {
      const database = yield* Effect.promise(() => backend.fresh())
      yield* Effect.gen(function* () {
        const accounts = yield* Accounts
        const target = yield* accounts.create(input, as())
        yield* accounts.redact({ id: target.id }, as())
        const donor = yield* accounts.create({ accountType: "User", fields: { email_address: EMAIL_2, name: { first: "Dora" } } }, as())
        const refused = yield* Effect.flip(accounts.consolidate({ id: target.id }, [{ id: donor.id }], as()))
        expect(refused).toMatchObject({ _tag: "InvalidState", status: 409 })
        expect(refused.message).toContain("was redacted; consolidating into it would give it personal data again")
        const after = yield* accounts.get({ id: target.id })
        expect(Object.values(after.fields).every(isEmptyValue)).toBe(true)
        expect((yield* accounts.get({ id: donor.id })).consolidatedInto).toBeNull()
        // As a source, a redacted account gives its tags, and no (empty) field values.
        const empty = yield* accounts.create({ accountType: "User", fields: { phone_number: PHONE_2 } }, as())
        const merged = yield* accounts.consolidate({ id: empty.id }, [{ id: target.id }], as())
        expect(Schema.encodeSync(Account)(merged).fields).toEqual(Schema.encodeSync(Account)(yield* accounts.get({ id: empty.id })).fields)
        expect(merged.fields.phone_number?.value).toBe(PHONE_2)
        // An archived source can still be redacted.
        expect((yield* accounts.redact({ id: donor.id }, as())).redactedAt).not.toBeNull()
      }).pipe(Effect.provide(demoStore(database)))
    })
  )

  it.effect("expired idempotency records are deleted", () =>
    Effect.gen(function* () {
      const database = yield* Effect.promise(() => backend.fresh())
      yield* Effect.gen(function* () {
        const accounts = yield* Accounts
        const sql = yield* SqlClient.SqlClient
        yield* TestClock.setTime(Date.now()) // the store's clock, real time here
        const long = new Date(Date.now() - 25 * 3_600_000).toISOString()
        const ago = new Date(Date.now() - 3_600_000).toISOString()
        yield* sql`INSERT INTO idempotency_keys ${sql.insert({ principal_id: "cli:old", idempotency_key: "old", operation: "create", request_hash: "h", response: "{}", created_at: long, expires_at: ago })}`
        yield* accounts.addTag({ referenceId: "abc-123" }, "fresh", { ...as(), idempotencyKey: "fresh-1" })
        expect(yield* sql`SELECT idempotency_key FROM idempotency_keys`).toEqual([{ idempotency_key: "fresh-1" }])
      }).pipe(Effect.provide(demoStore(database)))
    })
  )
})
