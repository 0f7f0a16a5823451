// The baseline for http.bench.mjs: node:http + better-sqlite3 running the same SQL as acct for
// the two benchmarked routes (API-key lookup; account + type read; for run-action, one
// transaction: action, account, versioned update, run record, its event, audit entry), no framework.
import { createHash } from "node:crypto"
import { createServer } from "node:http"
import { resource, send } from "./raw-common.mjs"
import { openSqliteWork } from "./sqlite-work.mjs"

const { keyByHash, runAction, accountById } = openSqliteWork(process.env.ACCT_DATABASE, { busyTimeoutMs: 5000 })

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
