/** Persona's account importer on the store: whole-file checks, per-row errors, idempotent rows, counts. */
import { Accounts, type ImporterId } from "@acct/core"
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, TestClock } from "effect"
import { afterAll } from "vitest"
import { as, backends, dropDatabases, onFreshStore } from "./harness.js"

afterAll(dropDatabases)

/** A turn of Node's event loop, as requests arriving over the network give the import. */
const ioTurn = Effect.async<void>((resume) => void setImmediate(() => resume(Effect.void)))

/** The importer once it stopped being pending. */
const settled = (id: ImporterId) =>
  Effect.flatMap(Accounts, (accounts) =>
    // Yielding between polls, as requests arriving over the network do: a poll that never
    // yields would hold the connection from the import itself.
    Effect.repeat(Effect.zipLeft(accounts.getImporter(id), ioTurn), { until: (i) => i.status !== "pending" }).pipe(Effect.timeout("20 seconds"))
  )

const allErrors = (id: ImporterId) =>
  Effect.flatMap(Accounts, (accounts) =>
    Effect.gen(function* () {
      const out = []
      let after: string | undefined
      do {
        const page = yield* accounts.listImportErrors(id, { after, size: 100 })
        out.push(...page.items)
        after = page.next ?? undefined
      } while (after !== undefined)
      return out
    })
  )

const FILE = [
  "reference_id,name_first,name_middle,name_last,birthdate,social_security_number,tags",
  "imp-1,Ada,,Lovelace,1815-12-10,,\"vip,beta\"",
  '"imp-2","Grace ""Amazing""",Brewster,Hopper,1906-12-09,123-45-6789,',
  "abc-123,Jane,,Doe,,,",
  "imp-3,Bad,,Date,1999-13-01,,",
  "imp-1,Ada,,Again,,,",
  ",No,,Reference,,,",
  "imp-4,Too,Many",
  "imp-5,Alan,,Turing,1912-06-23,,\"x,y\""
].join("\r\n")

describe.each(backends)("account importer ($name)", (backend) => {
  it.effect("imports each good row once, counts duplicates, and names row, column and problem of bad rows (never the value)", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      const started = yield* accounts.importAccounts({ csv: FILE }, as())
      expect(started).toMatchObject({ status: "pending", rowCount: 8 })
      const done = yield* settled(started.id)
      expect(done).toMatchObject({ status: "ready", rowCount: 8, successfulCount: 3, duplicateCount: 2, errorCount: 3 })
      expect(done.completedAt).not.toBeNull()
      expect(yield* allErrors(started.id)).toEqual([
        { row: 5, column: "birthdate", problem: "expected a date as YYYY-MM-DD" },
        { row: 7, column: "reference_id", problem: "is required (it makes importing the same file again change nothing)" },
        { row: 8, column: null, problem: "has 3 values; the header has 7 columns" }
      ])
      const grace = yield* accounts.get({ referenceId: "imp-2" })
      expect(grace.fields.name).toEqual({ type: "hash", value: { first: { type: "string", value: 'Grace "Amazing"' }, middle: { type: "string", value: "Brewster" }, last: { type: "string", value: "Hopper" } } })
      expect(grace.fields.social_security_number).toEqual({ type: "string", value: "123-45-6789" })
      expect(grace.status).toBe("deactivated")
      expect((yield* accounts.get({ referenceId: "imp-1" })).tags).toEqual(["vip", "beta"])
      // Jane already existed: unchanged.
      expect((yield* accounts.get({ referenceId: "abc-123" })).fields.name).toMatchObject({ value: { last: { value: "Doe" } } })
      const audit = yield* sql<{ operation: string; n: number | string }>`SELECT operation, count(*) AS n FROM audit_log WHERE operation IN ('import', 'import-accounts') GROUP BY operation ORDER BY operation`
      expect(audit.map((a) => [a.operation, Number(a.n)])).toEqual([["import", 3], ["import-accounts", 1]])
      // One account.created event per imported account, committed with it.
      const created = yield* sql<{ object_id: string }>`SELECT object_id FROM events WHERE name = 'account.created' AND object_id IN (SELECT id FROM accounts WHERE reference_id IN ('imp-1', 'imp-2', 'imp-5'))`
      expect(created).toHaveLength(3)

      // The same file again: every good row is a duplicate now, nothing is created.
      const again = yield* settled((yield* accounts.importAccounts({ csv: FILE }, as())).id)
      expect(again).toMatchObject({ status: "ready", successfulCount: 0, duplicateCount: 5, errorCount: 3 })
      expect((yield* accounts.list({ size: 100 })).items.length).toBe(9)
      expect((yield* accounts.listImporters({})).items.map((i) => i.id)).toEqual([again.id, started.id])
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("makes imported accounts searchable by their searchable fields, as created ones are", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      yield* settled((yield* accounts.importAccounts({ csv: FILE }, as())).id)
      const byLastName = yield* accounts.search({ query: { attribute: "fields.name.last", operator: "eq", value: "Hopper" } })
      expect(byLastName.items.map((a) => a.referenceId)).toEqual(["imp-2"])
      const byBirthdate = yield* accounts.search({ query: { attribute: "fields.birthdate", operator: "lt", value: "1900-01-01" } })
      expect(byBirthdate.items.map((a) => a.referenceId)).toEqual(["imp-1"])
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("answers other requests while an import runs (it never holds the connection from chunk to chunk)", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const rows = Array.from({ length: 20_000 }, (_, i) => `busy-${i},Ada,,Lovelace,1815-12-10,,`)
      const started = yield* accounts.importAccounts({ csv: [FILE.split("\r\n")[0], ...rows].join("\n") }, as())
      // A read once the import has begun comes back while it is still going. (Between polls
      // the poller yields, as requests arriving over the network do.)
      yield* Effect.repeat(Effect.zipLeft(accounts.getImporter(started.id), ioTurn), { until: (i) => i.successfulCount > 0 || i.status !== "pending" })
      yield* accounts.get({ referenceId: "abc-123" })
      expect((yield* accounts.getImporter(started.id)).status).toBe("pending")
      expect(yield* settled(started.id)).toMatchObject({ status: "ready", successfulCount: 20_000 })
    }).pipe((test) => onFreshStore(backend, test)), { timeout: 120_000 }
  )

  it.effect("refuses a file whose header or syntax is wrong as a whole, creating nothing", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const unknown = yield* Effect.flip(accounts.importAccounts({ csv: "reference_id,email\nx,y" }, as()))
      expect(unknown).toMatchObject({ _tag: "InvalidRequest", message: 'line 1: unknown column "email"; the columns are reference_id, name_first, name_middle, name_last, birthdate, social_security_number, tags' })
      const noReference = yield* Effect.flip(accounts.importAccounts({ csv: "name_first\nAda" }, as()))
      expect(noReference.message).toContain("the reference_id column is required")
      const unclosed = yield* Effect.flip(accounts.importAccounts({ csv: 'reference_id,name_first\nx,"Ada\ny,Bob\n' }, as()))
      expect(unclosed.message).toBe('line 2: a quoted value is never closed (a " is missing)')
      const empty = yield* Effect.flip(accounts.importAccounts({ csv: "" }, as()))
      expect(empty.message).toContain("the file is empty")
      const readOnly = yield* Effect.flip(accounts.importAccounts({ csv: "reference_id\nx" }, as(["account.read"])))
      expect(readOnly).toMatchObject({ _tag: "Forbidden", missingScope: "account.write" })
      expect((yield* accounts.listImporters({})).items).toEqual([])
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("reports an importer that stopped moving (its process went away) as errored, not pending forever", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      const type = (yield* accounts.listTypes())[0]!
      const at = new Date(0).toISOString()
      yield* sql`INSERT INTO importers ${sql.insert({ id: "mprt_stalled0000000000000000", status: "pending", account_type_id: type.id, row_count: 10, successful_count: 3, duplicate_count: 0, error_count: 0, created_at: at, updated_at: at, completed_at: null })}`
      expect((yield* accounts.getImporter("mprt_stalled0000000000000000" as ImporterId)).status).toBe("pending")
      yield* TestClock.adjust("3 minutes")
      expect(yield* accounts.getImporter("mprt_stalled0000000000000000" as ImporterId)).toMatchObject({ status: "errored", successfulCount: 3 })
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("keeps the file out of the importer row, which every chunk rewrites, and deletes it when the import ends", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      const csv = ["reference_id,name_first", ...Array.from({ length: 1200 }, (_, i) => `big-${i},Ada`)].join("\n")
      const started = yield* accounts.importAccounts({ csv }, as())
      // Pending: the row holds counts, lease and invocation only (no column anywhere near the file's size).
      const row = (yield* sql<Record<string, unknown>>`SELECT * FROM importers WHERE id = ${started.id}`)[0]!
      expect(Object.entries(row).filter(([, value]) => typeof value === "string" && value.length >= csv.length / 2).map(([column]) => column)).toEqual([])
      expect((yield* settled(started.id)).successfulCount).toBe(1200)
      // The file is personal data: gone with the import's end.
      expect(Number((yield* sql<{ n: number | string }>`SELECT count(*) AS n FROM importer_files WHERE importer_id = ${started.id}`)[0]!.n)).toBe(0)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("replays a keyed import without importing it twice", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const keyed = { ...as(), idempotencyKey: "import-1" }
      const first = yield* accounts.importAccounts({ csv: "reference_id,name_first\nk-1,Ada\nk-2,Bob" }, keyed)
      yield* settled(first.id)
      const replay = yield* accounts.importAccounts({ csv: "reference_id,name_first\nk-1,Ada\nk-2,Bob" }, keyed)
      expect(replay.id).toBe(first.id)
      expect((yield* accounts.listImporters({})).items).toHaveLength(1)
      expect((yield* settled(first.id)).successfulCount).toBe(2)
    }).pipe((test) => onFreshStore(backend, test))
  )
})
