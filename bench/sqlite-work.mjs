// The SQL both baseline servers on SQLite run, prepared once: the same statements acct runs for
// the two benchmarked routes (API-key lookup; account + type read; for run-action, one
// transaction: action, account, versioned update, run record, its event, audit entry — acct
// writes a `workflow-run.created` event with every run, in the run's transaction).
import Database from "better-sqlite3"
import { randomBytes } from "node:crypto"
import { resource } from "./raw-common.mjs"

export const openSqliteWork = (filename, { busyTimeoutMs }) => {
  const db = new Database(filename)
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  db.pragma(`busy_timeout = ${busyTimeoutMs}`)

  const keyByHash = db.prepare("SELECT * FROM api_keys WHERE secret_hash = ? AND revoked_at IS NULL")
  const accountById = db.prepare("SELECT a.*, t.name AS type_name, t.definition FROM accounts a JOIN account_types t ON t.id = a.account_type_id WHERE a.id = ?")
  const actionById = db.prepare("SELECT definition FROM account_actions WHERE id = ?")
  const update = db.prepare("UPDATE accounts SET status = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?")
  const insertRun = db.prepare(
    "INSERT INTO action_runs (id, account_id, action_id, action_name, status, actor, parameters, status_before, status_after, events, error, idempotency_key, started_at, finished_at) VALUES (?, ?, ?, ?, 'succeeded', ?, ?, ?, ?, '[]', NULL, NULL, ?, ?)"
  )
  const insertAudit = db.prepare(
    "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, channel, operation, account_id, run_id, status_before, status_after, outcome) VALUES (?, 'api-key', ?, ?, 'http', 'run-action', ?, ?, ?, ?, 'ok')"
  )

  const insertEvent = db.prepare("INSERT INTO events (id, name, object_type, object_id, account_id, created_at, payload, context) VALUES (?, 'workflow-run.created', 'workflow-run', ?, ?, ?, ?, ?)")

  const runAction = db.transaction((accountId, actionId, status, key) => {
    JSON.parse(actionById.get(actionId).definition)
    const row = accountById.get(accountId)
    JSON.parse(row.definition)
    const now = new Date().toISOString()
    update.run(status, row.version + 1, now, row.id, row.version)
    const runId = `wfr_${randomBytes(12).toString("hex")}`
    const actor = { kind: "api-key", id: key.id, name: key.name }
    insertRun.run(runId, row.id, actionId, "Set status", JSON.stringify(actor), JSON.stringify({ status }), row.status, status, now, now)
    const run = { id: runId, accountId: row.id, actionId, actionName: "Set status", status: "succeeded", actor, via: null, parameters: { status }, statusBefore: row.status, statusAfter: status, events: [], error: null, idempotencyKey: null, startedAt: now, finishedAt: now }
    insertEvent.run(`evt_${randomBytes(12).toString("hex")}`, runId, row.id, now, JSON.stringify(run), JSON.stringify({ actor, channel: "http", workflowRunId: runId, statusBefore: row.status, statusAfter: status }))
    insertAudit.run(now, key.id, key.name, row.id, runId, row.status, status)
    return { data: resource({ ...row, status, updated_at: now }), meta: { "workflow-run-id": runId } }
  })

  return { keyByHash, accountById, runAction }
}
