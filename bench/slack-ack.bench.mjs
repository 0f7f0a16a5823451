// Slack acknowledgement latency: signed `/acct` commands against the built Slack app while its
// backend (a real acct server behind a proxy that holds every request 2 s) is slow. Slack
// gives an app 3 s; the goal is p99 < 100 ms. Beside it, a bare node:http server that answers
// at once, measured the same way: the floor of this machine. BENCH_SLACK_COMMANDS (default 1000)
// commands, 20 at a time.
import { createHmac } from "node:crypto"
import { mkdtempSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { startProcess, stopProcess } from "./processes.mjs"

const COMMANDS = Number(process.env.BENCH_SLACK_COMMANDS ?? 1000)
const PARALLEL = 20
const SECRET = "bench-signing-secret"
const KEY = "acct_bench_key_0123456789abcdefghijklmnop"
const dir = mkdtempSync(path.join(tmpdir(), "acct-slack-bench-"))
const file = (name) => fileURLToPath(new URL(name, import.meta.url))

const listen = (server, port) => new Promise((resolve) => server.listen(port, "127.0.0.1", resolve))

const acct = await startProcess(file("../apps/server/dist/server.mjs"), { PORT: "18951", HOST: "127.0.0.1", ACCT_DATABASE: path.join(dir, "acct.db"), ACCT_BOOTSTRAP_KEY: KEY, ACCT_RATE_LIMIT: "1000000000", LOG_LEVEL: "Info" })
// The slow backend and the response_url stand-in, in a process of their own.
const backend = await startProcess(file("./slow-proxy.mjs"), { PORT: "18952", RESPONSES_PORT: "18953", TARGET_PORT: "18951" })
const delivered = async () => Number(await (await fetch("http://127.0.0.1:18953/count")).text())

writeFileSync(path.join(dir, "policy.yaml"), "grants:\n  - users: [UBENCH01]\n    scopes: [account.action, account.write]\n")
const slack = await startProcess(file("../apps/slack/dist/slack.mjs"), {
  PORT: "18954",
  HOST: "127.0.0.1",
  SLACK_SIGNING_SECRET: SECRET,
  ACCT_URL: "http://127.0.0.1:18952",
  ACCT_API_KEY: KEY,
  ACCT_SLACK_POLICY: path.join(dir, "policy.yaml")
})
const floor = createServer((req, res) => {
  req.resume()
  req.on("end", () => res.writeHead(200).end())
})
await listen(floor, 18955)

const texts = ["enable def-456", "run 'Set status' abc-123 status=activated", "show abc-123", "tag def-456 +bench", "history ghi-789"]
let sent = 0
const measure = async (port, count = COMMANDS) => {
  const latencies = []
  let next = 0
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      // Every command unique, like Slack's (the app refuses a replayed signature).
      const id = sent++
      const body = new URLSearchParams({
        token: "x", team_id: "T0001", team_domain: "bench", channel_id: "C0001", channel_name: "bench", user_id: "UBENCH01", user_name: "bench",
        command: "/acct", text: texts[i % texts.length], api_app_id: "A0001", response_url: `http://127.0.0.1:18953/hook/${id}`, trigger_id: `${id}.1.abc`
      }).toString()
      const timestamp = String(Math.floor(Date.now() / 1000))
      const signature = `v0=${createHmac("sha256", SECRET).update(`v0:${timestamp}:${body}`).digest("hex")}`
      const started = performance.now()
      const response = await fetch(`http://127.0.0.1:${port}/slack/events`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": timestamp, "x-slack-signature": signature },
        body
      })
      await response.arrayBuffer()
      if (response.status !== 200) throw new Error(`status ${response.status}`)
      latencies.push(performance.now() - started)
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker))
  latencies.sort((a, b) => a - b)
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
  return { p50: at(0.5), p99: at(0.99) }
}

const children = [acct, backend, slack]
const servers = [floor]
let bare
let app
try {
  // Warm-up rounds (JIT, connection pools) for both, then the measured ones.
  await measure(18955, 60)
  await measure(18954, 60)
  bare = await measure(18955)
  app = await measure(18954)
} catch (error) {
  for (const server of servers) server.close()
  for (const child of children) await stopProcess(child)
  throw error
}
// Wait for the slow work to land on response_url (each takes ≥ 2 s behind the proxy).
const deadline = Date.now() + 60_000
while ((await delivered()) < COMMANDS + 60 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200))

const ms = (x) => `${x.toFixed(1)} ms`
console.log(`${COMMANDS} signed /acct commands, ${PARALLEL} at a time; backend holds every request 2 s`)
console.table([
  { server: "acct Slack app (Bolt)", p50: ms(app.p50), p99: ms(app.p99), "p99 × bare": (app.p99 / bare.p99).toFixed(1) },
  { server: "bare node:http (floor)", p50: ms(bare.p50), p99: ms(bare.p99), "p99 × bare": "1.0" }
])
console.log(`results delivered to response_url: ${await delivered()}/${COMMANDS + 60} (warm-up included); goal: p99 < 100 ms`)

for (const server of servers) server.close()
for (const child of children) await stopProcess(child)
