// `acct bulk enable` over 2,000 accounts through the SoftwareOne provider, whose upstream allows
// 200 requests/s (a limiter in front of a real acct server: fixed one-second windows,
// RateLimit-* headers, 429s without Retry-After, as Persona answers). Beside it, the same job
// done by a plain client: fetch with p-retry, same concurrency. Reported: time as a ratio to the
// ideal (N / rate), 429s received, duplicates (accounts enabled more than once) and losses
// (accounts left disabled). Goal: ≤ 1.15× ideal, 429s ≤ 1 % of requests, no duplicates or losses.
// BENCH_ACCOUNTS (default 2000), BENCH_RATE (default 200) and BENCH_CONCURRENCY (default 8).
import Database from "better-sqlite3"
import pRetry, { AbortError } from "p-retry"
import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { createServer, request as forward } from "node:http"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { startProcess, stopProcess } from "./processes.mjs"

const N = Number(process.env.BENCH_ACCOUNTS ?? 2000)
const RATE = Number(process.env.BENCH_RATE ?? 200)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8)
const KEY = "acct_bench_key_0123456789abcdefghijklmnop"
const dir = mkdtempSync(path.join(tmpdir(), "acct-bulk-bench-"))
const database = path.join(dir, "acct.db")
const serverFile = fileURLToPath(new URL("../apps/server/dist/server.mjs", import.meta.url))
const cliFile = fileURLToPath(new URL("../apps/cli/dist/acct.mjs", import.meta.url))

const server = await startProcess(serverFile, { PORT: "18941", HOST: "127.0.0.1", ACCT_DATABASE: database, ACCT_BOOTSTRAP_KEY: KEY, ACCT_RATE_LIMIT: "1000000000", LOG_LEVEL: "Info" })
const acct = "http://127.0.0.1:18941"
const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" }

/** Two sets of N disabled accounts (one per client), created straight on acct. */
const typeId = (await (await fetch(`${acct}/api/v1/account-types`, { headers })).json()).data[0].id
const create = async (referenceId) => {
  const response = await fetch(`${acct}/api/v1/accounts`, {
    method: "POST",
    headers,
    body: JSON.stringify({ data: { attributes: { "account-type-id": typeId, "reference-id": referenceId, "account-status": "disabled" } } })
  })
  if (response.status !== 201) throw new Error(`create ${referenceId}: ${response.status} ${await response.text()}`)
}
const sets = { acct: [], plain: [] }
for (const [name, list] of Object.entries(sets)) for (let i = 0; i < N; i++) list.push(`bulk-${name}-${i}`)
const all = [...sets.acct, ...sets.plain]
for (let i = 0; i < all.length; i += 32) await Promise.all(all.slice(i, i + 32).map(create))

/** The upstream's limit: RATE requests per one-second window, counted per run. */
const counts = { requests: 0, throttled: 0 }
const limiter = createServer((req, res) => {
  const now = Date.now()
  const window = Math.floor(now / 1000)
  if (limiter.window !== window) {
    limiter.window = window
    limiter.used = 0
  }
  counts.requests++
  const reset = String(Math.max(1, Math.ceil((window * 1000 + 1000 - now) / 1000)))
  const rate = { "ratelimit-limit": String(RATE), "ratelimit-reset": reset }
  if (limiter.used >= RATE) {
    counts.throttled++
    req.resume()
    res.writeHead(429, { "content-type": "application/json", ...rate, "ratelimit-remaining": "0" }).end(JSON.stringify({ errors: [{ title: "Too Many Requests" }] }))
    return
  }
  limiter.used++
  const remaining = String(RATE - limiter.used)
  const upstream = forward({ host: "127.0.0.1", port: 18941, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...rate, "ratelimit-remaining": remaining })
    answer.pipe(res)
  })
  upstream.on("error", () => res.writeHead(502).end())
  req.pipe(upstream)
})
await new Promise((resolve) => limiter.listen(18942, "127.0.0.1", resolve))
const upstreamUrl = "http://127.0.0.1:18942"

/** After a run: accounts enabled more than once, and accounts not enabled at all. */
const outcome = (referenceIds) => {
  const db = new Database(database, { readonly: true })
  const ids = db.prepare(`SELECT id, status FROM accounts WHERE reference_id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(referenceIds))
  const runs = new Map(db.prepare(`SELECT account_id, count(*) AS n FROM action_runs WHERE action_name = 'enable' GROUP BY account_id`).all().map((r) => [r.account_id, r.n]))
  db.close()
  return {
    duplicates: ids.filter((a) => (runs.get(a.id) ?? 0) > 1).length,
    losses: ids.filter((a) => a.status === "disabled").length
  }
}

const measure = async (name, referenceIds, job) => {
  counts.requests = 0
  counts.throttled = 0
  const started = performance.now()
  await job()
  const seconds = (performance.now() - started) / 1000
  const ideal = referenceIds.length / RATE
  const { duplicates, losses } = outcome(referenceIds)
  return {
    client: name,
    seconds: seconds.toFixed(1),
    "× ideal": (seconds / ideal).toFixed(2),
    requests: counts.requests,
    "429s": counts.throttled,
    "429 %": ((counts.throttled / Math.max(1, counts.requests)) * 100).toFixed(1),
    duplicates,
    losses
  }
}

const acctRun = () =>
  new Promise((resolve, reject) => {
    const ids = path.join(dir, "ids.txt")
    writeFileSync(ids, sets.acct.join("\n"))
    const cli = spawn(process.execPath, [cliFile, "bulk", "enable", "--ids", ids, "--concurrency", String(CONCURRENCY), "--report", path.join(dir, "failures.jsonl")], {
      env: { ...process.env, ACCT_PROVIDER: "softwareone", ACCT_SOFTWAREONE_URL: upstreamUrl, ACCT_SOFTWAREONE_TOKEN: KEY },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let err = ""
    cli.stderr.on("data", (c) => (err.length < 10_000 ? (err += c) : undefined))
    cli.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`acct bulk exited ${code}: ${err.slice(-2000)}`))))
  })

/** The plain client: fetch + p-retry (its defaults: 10 retries, exponential from 1 s), 429 and 5xx retried. */
const plainRun = async () => {
  const queue = [...sets.plain]
  const worker = async () => {
    for (let ref = queue.shift(); ref !== undefined; ref = queue.shift()) {
      await pRetry(
        async () => {
          const response = await fetch(`${upstreamUrl}/v1/accounts/accounts/${ref}/enable`, { method: "POST", headers })
          await response.arrayBuffer()
          if (response.status === 429 || response.status >= 500) throw new Error(`status ${response.status}`)
          if (response.status >= 400) throw new AbortError(`status ${response.status}`)
        },
        { retries: 10 }
      )
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

const rows = [await measure("acct bulk (SoftwareOne provider)", sets.acct, acctRun), await measure("fetch + p-retry", sets.plain, plainRun)]
console.log(`${N} accounts, upstream limit ${RATE} requests/s, concurrency ${CONCURRENCY}; ideal ${(N / RATE).toFixed(1)} s`)
console.table(rows)
console.log("goal: ≤ 1.15× ideal, 429s ≤ 1 % of requests, zero duplicates, zero losses")

await new Promise((resolve) => limiter.close(resolve))
await stopProcess(server)
