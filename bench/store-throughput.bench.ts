/**
 * Store throughput: `runAction` ("Set status") on an SQLite file, as a ratio to raw
 * better-sqlite3 doing the same reads and writes per run (look up account, type and action;
 * versioned update; run record; audit entry; one transaction) in the same process. Goal ≥ 0.3×.
 *
 * A third line runs the very same statements through @effect/sql with none of acct's logic:
 * the floor any store built on @effect/sql has, which separates library cost from ours.
 */
import { Accounts, Principal } from "@acct/core"
import { demoCatalog, loadCatalog, parseCatalog, seedDemoAccounts, SqliteStore } from "@acct/store-sql"
import Database from "better-sqlite3"
import { SqlClient } from "@effect/sql"
import { Effect, Either, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"

const N = 3000
const dir = mkdtempSync(path.join(tmpdir(), "acct-store-bench-"))
const statuses = ["activated", "deactivated"]

const raw = (): number => {
  const db = new Database(path.join(dir, "raw.db"))
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  db.exec(`
    CREATE TABLE account_types (id TEXT PRIMARY KEY, name TEXT, definition TEXT);
    CREATE TABLE account_actions (id TEXT PRIMARY KEY, name TEXT UNIQUE, definition TEXT);
    CREATE TABLE accounts (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, reference_id TEXT UNIQUE, account_type_id TEXT, status TEXT, fields TEXT, tags TEXT, version INTEGER, updated_at TEXT);
    CREATE TABLE action_runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, account_id TEXT, action_id TEXT, status_before TEXT, status_after TEXT, actor TEXT, parameters TEXT, finished_at TEXT);
    CREATE TABLE audit_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT, actor_id TEXT, operation TEXT, account_id TEXT, run_id TEXT, status_before TEXT, status_after TEXT);
    INSERT INTO account_types VALUES ('acttp_1', 'User', '{}');
    INSERT INTO account_actions VALUES ('accac_1', 'Set status', '{}');
    INSERT INTO accounts (id, reference_id, account_type_id, status, fields, tags, version, updated_at) VALUES ('act_1', 'abc-123', 'acttp_1', 'deactivated', '{}', '[]', 1, '');
  `)
  const getAccount = db.prepare("SELECT * FROM accounts WHERE reference_id = ?")
  const getType = db.prepare("SELECT definition FROM account_types WHERE id = ?")
  const getAction = db.prepare("SELECT definition FROM account_actions WHERE name = ?")
  const update = db.prepare("UPDATE accounts SET status = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?")
  const insertRun = db.prepare("INSERT INTO action_runs (id, account_id, action_id, status_before, status_after, actor, parameters, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
  const insertAudit = db.prepare("INSERT INTO audit_log (at, actor_id, operation, account_id, run_id, status_before, status_after) VALUES (?, ?, ?, ?, ?, ?, ?)")
  const runAction = db.transaction((status: string) => {
    const action = getAction.get("Set status") as { definition: string }
    JSON.parse(action.definition)
    const account = getAccount.get("abc-123") as { id: string; status: string; version: number; account_type_id: string }
    JSON.parse((getType.get(account.account_type_id) as { definition: string }).definition)
    const now = new Date().toISOString()
    update.run(status, account.version + 1, now, account.id, account.version)
    const runId = `wfr_${randomUUID()}`
    insertRun.run(runId, account.id, "accac_1", account.status, status, '{"kind":"cli"}', JSON.stringify({ status }), now)
    insertAudit.run(now, "bench", "run-action", account.id, runId, account.status, status)
  })
  for (let i = 0; i < 200; i++) runAction(statuses[i % 2]!)
  const start = performance.now()
  for (let i = 0; i < N; i++) runAction(statuses[i % 2]!)
  const elapsed = performance.now() - start
  db.close()
  return (N / elapsed) * 1000
}

/** The acct store on a fresh file, with the demo catalog and accounts. */
const storeWithDemo = (file: string) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      yield* loadCatalog(Either.getOrThrow(parseCatalog(JSON.stringify(demoCatalog), "demo", "json")), "demo")
      yield* seedDemoAccounts
    })
  ).pipe(Layer.provideMerge(SqliteStore({ filename: path.join(dir, file) })))

const acct = (): Promise<number> => {
  const principal = Principal.make({ actor: { kind: "cli", id: "bench", name: "bench" }, scopes: ["admin"] })
  const program = Effect.gen(function* () {
    const accounts = yield* Accounts
    const run = (i: number) => accounts.runAction({ referenceId: "abc-123" }, "Set status", { status: statuses[i % 2] }, { principal, channel: "cli" })
    for (let i = 0; i < 200; i++) yield* run(i)
    const start = performance.now()
    for (let i = 0; i < N; i++) yield* run(i)
    return (N / (performance.now() - start)) * 1000
  })
  return Effect.runPromise(program.pipe(Effect.provide(storeWithDemo("acct.db")), Effect.orDie))
}

/** The statements of one run-action, through @effect/sql, without acct's validation, engine or framing. */
const floor = (): Promise<number> => {
  const program = Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const now = () => new Date().toISOString()
    const run = (i: number) =>
      Effect.gen(function* () {
        yield* sql`SELECT definition FROM account_actions WHERE name = ${"Set status"}`
        yield* sql.withTransaction(
          Effect.gen(function* () {
            const [a] = yield* sql<{ id: string; version: number; fields: string; tags: string }>`SELECT a.*, t.name AS type_name, t.definition FROM accounts a JOIN account_types t ON t.id = a.account_type_id WHERE a.reference_id = ${"abc-123"}`
            const at = now()
            yield* sql`UPDATE accounts SET ${sql.update({ status: statuses[i % 2]!, fields: a!.fields, tags: a!.tags, version: a!.version + 1, updated_at: at })} WHERE id = ${a!.id} AND version = ${a!.version} RETURNING id`
            const runId = `wfr_${randomUUID()}`
            yield* sql`INSERT INTO action_runs ${sql.insert({ id: runId, account_id: a!.id, action_id: null, action_name: "Set status", status: "succeeded", actor: "{}", parameters: "{}", status_before: "x", status_after: "y", events: "[]", error: null, idempotency_key: null, started_at: at, finished_at: at })}`
            yield* sql`INSERT INTO audit_log ${sql.insert({ at, actor_kind: "cli", actor_id: "bench", actor_name: "bench", channel: "cli", operation: "run-action", account_id: a!.id, run_id: runId, status_before: "x", status_after: "y", outcome: "ok", reason: null, request_id: null })}`
          })
        )
      })
    for (let i = 0; i < 200; i++) yield* run(i)
    const start = performance.now()
    for (let i = 0; i < N; i++) yield* run(i)
    return (N / (performance.now() - start)) * 1000
  })
  return Effect.runPromise(program.pipe(Effect.provide(storeWithDemo("floor.db")), Effect.orDie))
}

const rawRate = raw()
const floorRate = await floor()
const acctRate = await acct()
const ratio = acctRate / rawRate
console.log(`run-action, ${N} sequential runs on an SQLite file (WAL, synchronous=NORMAL)`)
console.log(`raw better-sqlite3   ${rawRate.toFixed(0).padStart(7)} runs/s`)
console.log(`@effect/sql floor    ${floorRate.toFixed(0).padStart(7)} runs/s   ${(floorRate / rawRate).toFixed(2)}× raw   (same statements, no acct logic)`)
console.log(`acct store           ${acctRate.toFixed(0).padStart(7)} runs/s   ${ratio.toFixed(2)}× raw   ${(acctRate / floorRate).toFixed(2)}× floor   goal ≥ 0.3× raw  ${ratio >= 0.3 ? "ok" : "MISSED"}`)
