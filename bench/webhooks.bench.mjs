// Webhooks: commit-to-receiver latency (p50/p99) with the receiver on loopback, at a sustained
// event rate (BENCH_WEBHOOK_RATE events/s, default 200, for BENCH_SECONDS, default 60), on SQLite
// with one server and on Postgres with 2 replicas (when reachable: BENCH_POSTGRES_URL). Then the
// rate is doubled step by step (BENCH_STEP_SECONDS each, default 10) until the backlog grows:
// the highest rate whose deliveries kept up is printed (a step whose changes fail or cannot be
// offered ends the step-up; it never ends the run). Every run also counts lost events (none
// allowed) and duplicates (none without kills). Baseline: a plain POST to the same receiver
// from this process, to read latency as a multiple of one loopback round trip.
// Goal: p99 ≤ 250 ms at 200 events/s, zero lost.
import Database from "better-sqlite3"
import pg from "pg"
import { createServer } from "node:http"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { startProcess, stopProcess } from "./processes.mjs"

const seconds = Number(process.env.BENCH_SECONDS ?? 60)
const stepSeconds = Number(process.env.BENCH_STEP_SECONDS ?? 10)
const rate = Number(process.env.BENCH_WEBHOOK_RATE ?? 200)
const KEY = "acct_bench_key_0123456789abcdefghijklmnop"
// BENCH_ACCT_SERVER=<a built server.mjs> measures another build (e.g. main's, for a before/after).
const server = process.env.BENCH_ACCT_SERVER ?? fileURLToPath(new URL("../apps/server/dist/server.mjs", import.meta.url))
const postgresUrl = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

/** The receiver: notes when each event id first arrived and how often. */
const receiver = async () => {
  const seen = new Map()
  const http = createServer((request, response) => {
    const id = request.headers["webhook-id"]
    request.resume()
    request.on("end", () => {
      const now = Date.now()
      const entry = seen.get(id)
      if (entry) entry.count++
      else seen.set(id, { at: now, count: 1 })
      response.writeHead(204).end()
    })
  })
  await new Promise((r) => http.listen(0, "127.0.0.1", r))
  return { url: `http://127.0.0.1:${http.address().port}/hook`, seen, close: () => new Promise((r) => { http.closeAllConnections(); http.close(r) }) }
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

const call = async (base, method, url, body) => {
  const response = await fetch(`${base}${url}`, { method, headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) })
  return response.json()
}

/** Accounts the changes are spread over (created before the endpoint, so their events are not measured). */
const ACCOUNTS = 100

/** Changes in flight at most: past it the offered rate is not reached (the server lags behind). */
const MAX_IN_FLIGHT = 256

/**
 * Drives add-tag (2 events each) at `eventsPerSecond` for `duration` s through the servers in
 * turn. Never dies of an overloaded server: a failed change (a connect timeout, a 5xx) is
 * counted, and once MAX_IN_FLIGHT changes wait for answers the generator waits too, so the rate
 * actually offered is measured, not assumed.
 */
let runs = 0
const drive = async (bases, eventsPerSecond, duration) => {
  // A tag never added before: each change makes its two events.
  const run = runs++
  const accounts = (await call(bases[0], "GET", "/api/v1/accounts?page%5Bsize%5D=100")).data.map((a) => a.id)
  const interval = 2000 / eventsPerSecond
  const startedAt = performance.now()
  let n = 0
  let failed = 0
  let firstFailure
  const inFlight = new Set()
  const lastOf = new Map()
  while (performance.now() - startedAt < duration * 1000) {
    const due = startedAt + n * interval
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight)
    const i = n++
    // Add a tag, then take it off again: two events each, and no account reaches the tag limit.
    const account = accounts[i % accounts.length]
    const round = Math.floor(i / accounts.length)
    const change = round % 2 === 0 ? "add-tag" : "remove-tag"
    // One change at a time per account: when answers lag behind (an overloaded server, two
    // replicas), a remove could otherwise overtake its add, leave the tag on, and the tags
    // pile up to the account's limit of 100 — failing changes instead of measuring delivery.
    const p = (lastOf.get(account) ?? Promise.resolve())
      .then(() => call(bases[i % bases.length], "POST", `/api/v1/accounts/${account}/${change}`, { meta: { "tag-name": `b${run}-${Math.floor(round / 2)}` } }))
      .then((answer) => {
        if (answer.errors) throw new Error(JSON.stringify(answer.errors).slice(0, 200))
      })
      .catch((error) => {
        failed++
        firstFailure ??= String(error.cause?.code ?? error.message ?? error)
      })
      .finally(() => {
        inFlight.delete(p)
        if (lastOf.get(account) === p) lastOf.delete(account)
      })
    inFlight.add(p)
    lastOf.set(account, p)
  }
  const offeredSeconds = (performance.now() - startedAt) / 1000
  await Promise.all(inFlight)
  return { offered: (n * 2) / offeredSeconds, failed, firstFailure }
}

/** Every event committed since `since` (id and creation time), read from the database. */
const eventsSince = async (database, since) => {
  if (database.startsWith("postgres")) {
    const client = new pg.Client({ connectionString: database })
    await client.connect()
    try {
      return (await client.query("SELECT id, created_at FROM events WHERE created_at >= $1", [since])).rows.map((r) => ({ id: r.id, createdAt: Date.parse(r.created_at) }))
    } finally {
      await client.end()
    }
  }
  const db = new Database(database, { readonly: true })
  try {
    return db.prepare("SELECT id, created_at FROM events WHERE created_at >= ?").all(since).map((r) => ({ id: r.id, createdAt: Date.parse(r.created_at) }))
  } finally {
    db.close()
  }
}

/** CPU time (user + system, ms) the processes `pids` have used so far, from /proc (Linux). */
const cpuMs = (pids) =>
  pids.reduce((sum, pid) => {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")
    return sum + ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  }, 0)

/** With BENCH_WEBHOOK_TIMELINE=1: per second of commits, the events, their highest latency and how many took over 250 ms. */
const timeline = (events, sink) => {
  const t0 = Math.min(...events.map((e) => e.createdAt))
  const seconds = new Map()
  for (const e of events) {
    const s = Math.floor((e.createdAt - t0) / 1000)
    const latency = sink.seen.has(e.id) ? sink.seen.get(e.id).at - e.createdAt : Infinity
    seconds.set(s, [...(seconds.get(s) ?? []), latency])
  }
  const parts = [...seconds.entries()].sort((a, b) => a[0] - b[0]).map(([s, l]) => `${s}:${l.length}/${Math.max(...l)}/${l.filter((x) => x > 250).length}`)
  console.log(`  by second (s:events/max ms/over 250 ms): ${parts.join(" ")}`)
}

/** Latency, lost and duplicates of the events committed since `since`, waiting up to `tailMs` for the last ones. */
const delivered = async (database, sink, since, tailMs) => {
  const drainStart = Date.now()
  const events = await eventsSince(database, since)
  while (Date.now() - drainStart < tailMs && events.some((e) => !sink.seen.has(e.id))) await new Promise((r) => setTimeout(r, 100))
  if (process.env.BENCH_WEBHOOK_TIMELINE === "1" && events.length > 0) timeline(events, sink)
  const latencies = events.filter((e) => sink.seen.has(e.id)).map((e) => sink.seen.get(e.id).at - e.createdAt).sort((a, b) => a - b)
  const lost = events.filter((e) => !sink.seen.has(e.id)).length
  const duplicates = events.reduce((sum, e) => sum + Math.max(0, (sink.seen.get(e.id)?.count ?? 1) - 1), 0)
  return { events: events.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1), lost, duplicates, drainMs: Date.now() - drainStart }
}

/** The servers' CPU per delivered event covers the changes' own work too (the HTTP requests that make the events). */
const measure = async (database, bases, pids, sink, eventsPerSecond, duration, tailMs = 30_000) => {
  const since = new Date().toISOString()
  const cpuBefore = cpuMs(pids)
  const load = await drive(bases, eventsPerSecond, duration)
  const result = await delivered(database, sink, since, tailMs)
  return { ...load, ...result, cpuPerEvent: (cpuMs(pids) - cpuBefore) / result.events }
}

const baseline = async (sink) => {
  const times = []
  for (let i = 0; i < 200; i++) {
    const t = performance.now()
    await fetch(sink.url, { method: "POST", headers: { "webhook-id": `base_${i}` }, body: "{}" })
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  return { p50: percentile(times, 50), p99: percentile(times, 99) }
}

const report = (label, m, base) =>
  console.log(
    `${label}: ${m.events} events, p50 ${m.p50} ms (${(m.p50 / base.p50).toFixed(0)}× a loopback POST), p99 ${m.p99} ms, max ${m.max} ms, lost ${m.lost}, duplicates ${m.duplicates}, server CPU ${m.cpuPerEvent.toFixed(2)} ms per event${m.p99 <= 250 && m.lost === 0 ? "  ✓ goal" : "  ✗ goal (p99 ≤ 250 ms, 0 lost)"}`
  )

const scenario = async (label, startServers) => {
  const sink = await receiver()
  const base = await baseline(sink)
  const { bases, pids, stop, database } = await startServers()
  try {
    // Enough accounts that one change at a time per account (see drive) never caps the rate.
    const type = (await call(bases[0], "GET", "/api/v1/account-types")).data[0].id
    const have = (await call(bases[0], "GET", "/api/v1/accounts?page%5Bsize%5D=100")).data.length
    for (let i = have; i < ACCOUNTS; i++) await call(bases[0], "POST", "/api/v1/accounts", { data: { attributes: { "account-type-id": type, "reference-id": `bench-${i}` } } })
    const made = await call(bases[0], "POST", "/api/v1/webhooks", { data: { attributes: { name: "bench", url: sink.url, "enabled-events": ["*"] } } })
    await call(bases[0], "POST", `/api/v1/webhooks/${made.data.id}/enable`)
    const runStart = new Date().toISOString()
    /** Whether `m` (at `r` events/s) kept up, or why not. */
    const verdict = (m, r) =>
      m.failed > 0
        ? `${m.failed} changes failed (${m.firstFailure})`
        : m.offered < r * 0.9
          ? `only ${m.offered.toFixed(0)}/s offered`
          : m.lost > 0
            ? `${m.lost} still undelivered after the load`
            : m.drainMs >= 2000
              ? `tail drained in ${m.drainMs} ms`
              : undefined
    const main = await measure(database, bases, pids, sink, rate, seconds)
    report(`${label}, ${rate} events/s for ${seconds} s (offered ${main.offered.toFixed(0)}/s, ${main.failed} changes failed)`, main, base)
    // Step up (or down, when the first rate did not keep up) until the deliveries fall behind
    // (a tail left after the step), the changes fail, or the load cannot be offered; then once
    // more halfway between the last good and the first bad rate.
    const step = async (r) => {
      const m = await measure(database, bases, pids, sink, r, stepSeconds, 10_000)
      const why = verdict(m, r)
      console.log(`  ${r} events/s: ${m.events} events in ${stepSeconds} s, p50 ${m.p50} ms, p99 ${m.p99} ms, server CPU ${m.cpuPerEvent.toFixed(2)} ms per event, drained ${m.drainMs} ms after the load${why ? ` — backlog grew: ${why}` : ""}`)
      // A backlog left behind would count against the next step: let it drain first.
      if (why) await delivered(database, sink, runStart, 120_000)
      return why === undefined
    }
    let best
    let worst
    const mainWhy = verdict(main, rate)
    if (mainWhy === undefined) {
      best = rate
      for (let r = rate * 2; r <= 6400 && worst === undefined; r *= 2) {
        if (await step(r)) best = r
        else worst = r
      }
    } else {
      console.log(`  ${rate} events/s did not keep up: ${mainWhy}`)
      worst = rate
      for (let r = Math.round(rate / 2); r >= 25 && best === undefined; r = Math.round(r / 2)) {
        if (await step(r)) best = r
        else worst = r
      }
    }
    if (best !== undefined && worst !== undefined && (await step(Math.round((best + worst) / 2)))) best = Math.round((best + worst) / 2)
    console.log(`  highest sustained rate before the backlog grows: ${best ?? "below 25"} events/s${worst === undefined ? " (the highest step tried)" : ""}`)
    // Whatever the steps left behind must still arrive: nothing is lost under overload.
    const all = await delivered(database, sink, runStart, 120_000)
    console.log(`  whole run: ${all.events} events, lost ${all.lost}, duplicates ${all.duplicates}`)
  } finally {
    await stop()
    await sink.close()
  }
}

const env = (database) => ({ HOST: "127.0.0.1", ACCT_DATABASE: database, ACCT_BOOTSTRAP_KEY: KEY, ACCT_RATE_LIMIT: "1000000000", ACCT_SHUTDOWN_READINESS_DELAY_SECONDS: "0", LOG_LEVEL: "Info", ACCT_WEBHOOK_ALLOWED_HOSTS: "127.0.0.1", ACCT_WEBHOOK_KEY: Buffer.alloc(32, 3).toString("base64"), ACCT_WEBHOOK_CONCURRENCY: "16" })

// BENCH_WEBHOOK_STORES=sqlite (or postgres) runs one scenario only.
const stores = (process.env.BENCH_WEBHOOK_STORES ?? "sqlite,postgres").split(",")

if (stores.includes("sqlite")) await scenario("SQLite, 1 server", async () => {
  const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-wh-bench-")), "acct.db")
  const child = await startProcess(server, { ...env(database), PORT: "18180" })
  return { database, bases: ["http://127.0.0.1:18180"], pids: [child.pid], stop: () => stopProcess(child) }
})

const admin = new pg.Client({ connectionString: postgresUrl })
const reachable = stores.includes("postgres") && (await admin.connect().then(() => true, () => false))
if (!stores.includes("postgres")) console.log("Postgres: not asked for (BENCH_WEBHOOK_STORES)")
else if (!reachable) console.log(`Postgres at ${postgresUrl} unreachable: skipping the 2-replica run`)
else {
  const name = `acct_wh_bench_${Date.now()}`
  await admin.query(`CREATE DATABASE ${name}`)
  const url = Object.assign(new URL(postgresUrl), { pathname: `/${name}` }).toString()
  try {
    await scenario("Postgres, 2 replicas", async () => {
      const a = await startProcess(server, { ...env(url), PORT: "18181" })
      const b = await startProcess(server, { ...env(url), PORT: "18182" })
      return { database: url, bases: ["http://127.0.0.1:18181", "http://127.0.0.1:18182"], pids: [a.pid, b.pid], stop: () => Promise.all([stopProcess(a), stopProcess(b)]) }
    })
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}
