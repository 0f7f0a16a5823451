// The Postgres baseline for http.bench.mjs: node:http + pg running the same SQL as acct for the
// two benchmarked routes, no framework (compare raw-server.mjs, its SQLite twin).
import { createHash, randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { resource, send } from "./raw-common.mjs"
import pg from "pg"

const pool = new pg.Pool({ connectionString: process.env.ACCT_DATABASE, max: Number(process.env.ACCT_DB_POOL_SIZE ?? 10) })

const SELECT = "SELECT a.*, t.name AS type_name, t.definition FROM accounts a JOIN account_types t ON t.id = a.account_type_id WHERE a.id = $1"

const runAction = async (accountId, actionId, status, key) => {
  const client = await pool.connect()
  try {
    await client.query("BEGIN")
    JSON.parse((await client.query("SELECT definition FROM account_actions WHERE id = $1", [actionId])).rows[0].definition)
    const row = (await client.query(`${SELECT} FOR UPDATE OF a`, [accountId])).rows[0]
    JSON.parse(row.definition)
    const now = new Date().toISOString()
    await client.query("UPDATE accounts SET status = $1, version = $2, updated_at = $3 WHERE id = $4 AND version = $5", [status, row.version + 1, now, row.id, row.version])
    const runId = `wfr_${randomBytes(12).toString("hex")}`
    await client.query(
      "INSERT INTO action_runs (id, account_id, action_id, action_name, status, actor, parameters, status_before, status_after, events, error, idempotency_key, started_at, finished_at) VALUES ($1, $2, $3, 'Set status', 'succeeded', $4, $5, $6, $7, '[]', NULL, NULL, $8, $8)",
      [runId, row.id, actionId, JSON.stringify({ kind: "api-key", id: key.id, name: key.name }), JSON.stringify({ status }), row.status, status, now]
    )
    await client.query(
      "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, channel, operation, account_id, run_id, status_before, status_after, outcome) VALUES ($1, 'api-key', $2, $3, 'http', 'run-action', $4, $5, $6, $7, 'ok')",
      [now, key.id, key.name, row.id, runId, row.status, status]
    )
    await client.query("COMMIT")
    return { data: resource({ ...row, status, updated_at: now }), meta: { "workflow-run-id": runId } }
  } catch (e) {
    await client.query("ROLLBACK")
    throw e
  } finally {
    client.release()
  }
}


createServer(async (req, res) => {
  try {
    const token = (req.headers.authorization ?? "").replace(/^Bearer /, "")
    const key = (await pool.query("SELECT * FROM api_keys WHERE secret_hash = $1", [createHash("sha256").update(token).digest("hex")])).rows[0]
    if (!key) return send(res, 401, { errors: [{ title: "Token is invalid" }] })
    const match = /^\/api\/v1\/accounts\/(act_[A-Za-z0-9]+)(\/run-action)?$/.exec(req.url ?? "")
    if (!match) return send(res, 404, { errors: [{ title: "Record not found" }] })
    if (req.method === "GET" && !match[2]) {
      const row = (await pool.query(SELECT, [match[1]])).rows[0]
      return row ? send(res, 200, { data: resource(row) }) : send(res, 404, { errors: [{ title: "Record not found" }] })
    }
    let body = ""
    for await (const chunk of req) body += chunk
    const { data } = JSON.parse(body)
    send(res, 200, await runAction(match[1], data["account-action-id"], data.parameters.status, key))
  } catch (e) {
    send(res, 500, { errors: [{ title: "Internal error", details: String(e) }] })
  }
}).listen(Number(process.env.PORT), "127.0.0.1", () => console.log(`Listening on http://127.0.0.1:${process.env.PORT}`))
