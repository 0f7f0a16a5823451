// The peer for http.bench.mjs: what a user would build instead of acct — Fastify 5 and
// better-sqlite3 doing the same work for the two benchmarked routes: the hashed bearer key
// (cached), an in-memory fixed-window rate limit with RateLimit-* headers, a Request-Id, one JSON
// access line per request (Fastify's own logger, pino), the same SQL (for run-action one
// transaction: action, account, versioned update, run record, its event, audit entry) and the same JSON:API
// answer.
import Fastify, { LogController } from "fastify"
import { createHash, randomBytes } from "node:crypto"
import { resource } from "./raw-common.mjs"
import { openSqliteWork } from "./sqlite-work.mjs"

const { keyByHash, runAction, accountById } = openSqliteWork(process.env.ACCT_DATABASE, { busyTimeoutMs: 10 })

/** Verified keys, 5 s, as acct keeps them. */
const keys = new Map()
const keyFor = (token) => {
  const hash = createHash("sha256").update(token).digest("hex")
  const now = Date.now()
  const cached = keys.get(hash)
  if (cached && cached.until > now) return cached.key
  const key = keyByHash.get(hash)
  if (key) keys.set(hash, { key, until: now + 5000 })
  return key
}

const LIMIT = Number(process.env.ACCT_RATE_LIMIT ?? 300)
const windows = new Map()
const spend = (caller) => {
  const now = Date.now()
  let w = windows.get(caller)
  if (!w || w.resetAt <= now) windows.set(caller, (w = { count: 0, resetAt: now + 60_000 }))
  w.count++
  return { remaining: Math.max(0, LIMIT - w.count), reset: Math.ceil((w.resetAt - now) / 1000), over: w.count > LIMIT }
}

const app = Fastify({
  logger: { level: "info" },
  // Fastify's own per-request lines off (the access line is the onResponse hook's), said the
  // way Fastify 5.12 wants it: the top-level disableRequestLogging is deprecated (FSTDEP023).
  logController: new LogController({ disableRequestLogging: true }),
  genReqId: () => `req_${randomBytes(12).toString("hex")}`
})
app.addHook("onRequest", async (request, reply) => {
  reply.header("request-id", request.id)
  const token = /^bearer +(\S+)$/i.exec(request.headers.authorization ?? "")?.[1]
  const key = token === undefined ? undefined : keyFor(token)
  const limit = spend(key ? `key:${key.id}` : `ip:${request.ip}`)
  reply.header("ratelimit-limit", LIMIT).header("ratelimit-remaining", limit.remaining).header("ratelimit-reset", limit.reset)
  if (limit.over) return reply.code(429).header("retry-after", limit.reset).send({ errors: [{ title: "Rate limit exceeded" }] })
  if (!key) return reply.code(401).send({ errors: [{ title: "Token is invalid" }] })
  request.key = key
})
app.addHook("onResponse", async (request, reply) => {
  request.log.info({ method: request.method, path: request.routeOptions.url, status: reply.statusCode, durationMs: reply.elapsedTime, principal: `api-key:${request.key?.id}` }, "request")
})
app.addContentTypeParser("application/vnd.api+json", { parseAs: "string" }, app.getDefaultJsonParser("error", "ignore"))
app.get("/api/v1/accounts/:id", async (request, reply) => {
  const row = accountById.get(request.params.id)
  return row ? { data: resource(row) } : reply.code(404).send({ errors: [{ title: "Record not found" }] })
})
app.post("/api/v1/accounts/:id/run-action", async (request) => {
  const { data } = request.body
  return runAction(request.params.id, data["account-action-id"], data.parameters.status, request.key)
})
await app.listen({ port: Number(process.env.PORT), host: "127.0.0.1" })
console.log(`Listening on http://127.0.0.1:${process.env.PORT}`)
