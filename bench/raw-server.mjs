// The baseline for http.bench.mjs: node:http + better-sqlite3 running the same SQL as acct for
// the two benchmarked routes (API-key lookup; account + type read; for run-action, one
// transaction: action, account, versioned update, run record, audit entry), no framework.
import Database from "better-sqlite3"
import { createHash, randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { resource, send } from "./raw-common.mjs"

const db = new Database(process.env.ACCT_DATABASE)
db.pragma("journal_mode = WAL")
db.pragma("synchronous = NORMAL")
db.pragma("busy_timeout = 5000")

const keyByHash = db.prepare("SELECT * FROM api_keys WHERE secret_hash = ?")
const accountById = db.prepare("SELECT a.*, t.name AS type_name, t.definition FROM accounts a JOIN account_types t ON t.id = a.account_type_id WHERE a.id = ?")
const actionById = db.prepare("SELECT definition FROM account_actions WHERE id = ?")
const update = db.prepare("UPDATE accounts SET status = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?")
const insertRun = db.prepare(
  "INSERT INTO action_runs (id, account_id, action_id, action_name, status, actor, parameters, status_before, status_after, events, error, idempotency_key, started_at, finished_at) VALUES (?, ?, ?, ?, 'succeeded', ?, ?, ?, ?, '[]', NULL, NULL, ?, ?)"
)
const insertAudit = db.prepare(
  "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, channel, operation, account_id, run_id, status_before, status_after, outcome) VALUES (?, 'api-key', ?, ?, 'http', 'run-action', ?, ?, ?, ?, 'ok')"
)


const runAction = db.transaction((accountId, actionId, status, key) => {
  JSON.parse(actionById.get(actionId).definition)
  const row = accountById.get(accountId)
  JSON.parse(row.definition)
  const now = new Date().toISOString()
  update.run(status, row.version + 1, now, row.id, row.version)
  const runId = `wfr_${randomBytes(12).toString("hex")}`
  insertRun.run(runId, row.id, actionId, "Set status", JSON.stringify({ kind: "api-key", id: key.id, name: key.name }), JSON.stringify({ status }), row.status, status, now, now)
  insertAudit.run(now, key.id, key.name, row.id, runId, row.status, status)
  return { data: resource({ ...row, status, updated_at: now }), meta: { "workflow-run-id": runId } }
})


createServer((req, res) => {
  const token = (req.headers.authorization ?? "").replace(/^Bearer /, "")
  const key = keyByHash.get(createHash("sha256").update(token).digest("hex"))
  if (!key) return send(res, 401, { errors: [{ title: "Token is invalid" }] })
  const match = /^\/api\/v1\/accounts\/(act_[A-Za-z0-9]+)(\/run-action)?$/.exec(req.url ?? "")
  if (!match) return send(res, 404, { errors: [{ title: "Record not found" }] })
  if (req.method === "GET" && !match[2]) {
    const row = accountById.get(match[1])
    return row ? send(res, 200, { data: resource(row) }) : send(res, 404, { errors: [{ title: "Record not found" }] })
  }
  let body = ""
  req.on("data", (c) => (body += c))
  req.on("end", () => {
    const { data } = JSON.parse(body)
    send(res, 200, runAction(match[1], data["account-action-id"], data.parameters.status, key))
  })
}).listen(Number(process.env.PORT), "127.0.0.1", () => console.log(`Listening on http://127.0.0.1:${process.env.PORT}`))
