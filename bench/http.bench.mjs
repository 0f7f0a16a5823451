// HTTP service: GET an account and POST run-action at 32 connections (autocannon), against acct,
// against the peer a user would build instead (Fastify 5 + better-sqlite3 doing the same work:
// fastify-server.mjs) and against a raw node:http server running the same SQL on the same
// database, in BENCH_ROUNDS interleaved rounds (default 1; medians are printed): on SQLite, and
// on Postgres with 1 and 3 replicas (raw: pg), when a Postgres is reachable (BENCH_POSTGRES_URL,
// default postgres://postgres@127.0.0.1:5432/postgres). Goals (SQLite, server CPU per request):
// GET account ≤ 3× the peer, POST run-action ≤ 2.7× the peer, GET p99 ≤ 25 ms.
// BENCH_SECONDS (default 10) sets each run's duration.
import autocannon from "autocannon"
import pg from "pg"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { startProcess, stopProcess } from "./processes.mjs"

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
// BENCH_WARMUP_SECONDS (default 2): load before each measured run, not counted. A process's CPU
// time includes V8 compiling the route's code on its background threads: the warm-up keeps that
// (and the first requests' cold caches) out of the measured window.
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 2)
const connections = 32
const KEY = "acct_bench_key_0123456789abcdefghijklmnop"
const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-http-bench-")), "acct.db")
// BENCH_ACCT_SERVER: another build of the server to measure (e.g. main's, for a before/after).
const server = process.env.BENCH_ACCT_SERVER ?? fileURLToPath(new URL("../apps/server/dist/server.mjs", import.meta.url))
const raw = fileURLToPath(new URL("./raw-server.mjs", import.meta.url))
const rawPg = fileURLToPath(new URL("./raw-pg-server.mjs", import.meta.url))
const floor = fileURLToPath(new URL("./effect-floor-server.mjs", import.meta.url))
const peer = fileURLToPath(new URL("./fastify-server.mjs", import.meta.url))
const rounds = Number(process.env.BENCH_ROUNDS ?? 1)

const start = (file, port, extraEnv = {}) =>
  startProcess(file, { PORT: String(port), HOST: "127.0.0.1", ACCT_DATABASE: database, ACCT_BOOTSTRAP_KEY: KEY, ACCT_RATE_LIMIT: "1000000000", ACCT_SHUTDOWN_READINESS_DELAY_SECONDS: "0", LOG_LEVEL: "Warning", ...extraEnv })
const stop = stopProcess

const get = async (port, url) => (await fetch(`http://127.0.0.1:${port}${url}`, { headers: { authorization: `Bearer ${KEY}` } })).json()

// Throughput on a machine shared with the load generator moves by ±10 % between runs; the CPU
// time a server spends per request moves far less, so it is reported beside it.
const clockTicks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100
/** CPU time (user + system, all threads) a process has used so far, in ms; undefined off Linux. */
const cpuMs = (child) => {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks
  } catch {
    return undefined
  }
}

let keyed = 0
/** Load split over several servers at once: summed throughput, worst percentiles, and (given the server processes) their CPU per request. */
const loadAll = async (urls, route, servers = [], { duration = seconds, warm = true } = {}) => {
  if (warm && warmupSeconds > 0) await loadAll(urls, route, [], { duration: warmupSeconds, warm: false })
  const cpuBefore = servers.map(cpuMs)
  const each = await Promise.all(
    urls.map((base, i) =>
      new Promise((resolve, reject) =>
        autocannon(
          {
            url: `${base}${route.path}`,
            connections: Math.floor(connections / urls.length) + (i < connections % urls.length ? 1 : 0),
            duration,
            headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
            method: route.method,
            body: route.body,
            // A fresh Idempotency-Key per request: every request is a first use (the cost of keeping the record).
            ...(route.keyed ? { requests: [{ method: route.method, path: route.path, body: route.body, setupRequest: (request) => ({ ...request, headers: { ...request.headers, "idempotency-key": `bench-${i}-${keyed++}` } }) }] } : {})
          },
          (error, result) => (error ? reject(error) : resolve(result))
        )
      )
    )
  )
  const cpuAfter = servers.map(cpuMs)
  const requests = each.reduce((n, r) => n + r.requests.total, 0)
  const cpu = servers.length > 0 && [...cpuBefore, ...cpuAfter].every((ms) => ms !== undefined)
    ? (cpuAfter.reduce((n, ms) => n + ms, 0) - cpuBefore.reduce((n, ms) => n + ms, 0)) * 1000 / requests
    : undefined
  return {
    cpu,
    rps: each.reduce((n, r) => n + r.requests.average, 0),
    p50: Math.max(...each.map((r) => r.latency.p50)),
    p99: Math.max(...each.map((r) => r.latency.p99)),
    non2xx: each.reduce((n, r) => n + r.non2xx, 0)
  }
}

// acct creates and seeds the database; the baseline then serves the same file.
let child = await start(server, 18901, { LOG_LEVEL: "Info" })
const jane = (await get(18901, "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).data[0].id
const action = (await get(18901, "/api/v1/account-actions")).data.find((a) => a.attributes.name === "Set status").id
const routes = {
  "GET account": { path: `/api/v1/accounts/${jane}`, method: "GET" },
  "POST run-action": { path: `/api/v1/accounts/${jane}/run-action`, method: "POST", body: JSON.stringify({ data: { "account-action-id": action, parameters: { status: "activated" } } }) }
}

/** The median of each measure over the rounds (the machine is shared: single runs are noisy). */
const median = (runs) => {
  const mid = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  const keys = ["cpu", "rps", "p50", "p99", "non2xx"]
  return Object.fromEntries(keys.map((k) => [k, runs.some((r) => r[k] === undefined) ? undefined : mid(runs.map((r) => r[k]))]))
}
const servers = { acct: [server, 18901, { LOG_LEVEL: "Info" }], peer: [peer, 18904, { ACCT_RATE_LIMIT: "1000000000" }], raw: [raw, 18902, {}] }
const runs = Object.fromEntries(Object.keys(routes).map((name) => [name, { acct: [], peer: [], raw: [] }]))
const keyedRuns = []
await stop(child)
for (let round = 0; round < rounds; round++) {
  for (const [label, [file, port, env]] of Object.entries(servers)) {
    const running = await start(file, port, env)
    for (const [name, route] of Object.entries(routes)) runs[name][label].push(await loadAll([`http://127.0.0.1:${port}`], route, [running]))
    // acct only (the baselines keep no idempotency records): the same POST with a new key each time.
    if (label === "acct") keyedRuns.push(await loadAll([`http://127.0.0.1:${port}`], { ...routes["POST run-action"], keyed: true }, [running]))
    await stop(running)
  }
}
const results = Object.fromEntries(Object.entries(runs).map(([name, byServer]) => [name, Object.fromEntries(Object.entries(byServer).map(([label, list]) => [label, median(list)]))]))
child = await start(floor, 18903)
const floorResult = await loadAll(["http://127.0.0.1:18903"], { path: "/healthz", method: "GET" }, [child])
await stop(child)

const cores = spawnSync("nproc", { encoding: "utf8" }).stdout.trim()
console.log(`${connections} connections, ${seconds} s per run, ${rounds} interleaved round(s) (medians), SQLite file, ${cores} cores (load generator on the same machine)`)
console.log("route              server   req/s    p50 ms  p99 ms  non-2xx  server CPU µs/req")
const goals = { "GET account": 3, "POST run-action": 2.7 }
for (const [name, { acct, peer: fastify, raw: base }] of Object.entries(results)) {
  for (const [label, r] of [["raw", base], ["peer", fastify], ["acct", acct]]) {
    console.log(`${name.padEnd(18)} ${label.padEnd(6)} ${r.rps.toFixed(0).padStart(7)}  ${String(r.p50).padStart(6)}  ${String(r.p99).padStart(6)}  ${String(r.non2xx).padStart(7)}  ${(r.cpu?.toFixed(0) ?? "–").padStart(17)}`)
  }
  const cpuRatio = (a, b) => (a.cpu !== undefined && b.cpu !== undefined ? a.cpu / b.cpu : undefined)
  const vsPeer = cpuRatio(acct, fastify)
  const vsRaw = cpuRatio(acct, base)
  const goal = goals[name]
  console.log(
    `${"".padEnd(18)} CPU/request: acct ÷ peer ${vsPeer?.toFixed(2) ?? "–"}× (goal ≤ ${goal}×) ${vsPeer !== undefined && vsPeer <= goal ? "ok" : "MISSED"}, acct ÷ raw ${vsRaw?.toFixed(2) ?? "–"}×; ` +
      `throughput acct ÷ peer ${(acct.rps / fastify.rps).toFixed(2)}×, ÷ raw ${(acct.rps / base.rps).toFixed(2)}×; p99 ${acct.p99} ms${name === "GET account" ? ` (goal ≤ 25 ms) ${acct.p99 <= 25 ? "ok" : "MISSED"}` : ""}`
  )
}
const keyedResult = median(keyedRuns)
const plain = results["POST run-action"].acct
const overhead = keyedResult.cpu !== undefined && plain.cpu !== undefined ? keyedResult.cpu / plain.cpu - 1 : undefined
console.log(
  `${"POST + Idem-Key".padEnd(18)} ${"acct".padEnd(6)} ${keyedResult.rps.toFixed(0).padStart(7)}  ${String(keyedResult.p50).padStart(6)}  ${String(keyedResult.p99).padStart(6)}  ${String(keyedResult.non2xx).padStart(7)}  ${(keyedResult.cpu?.toFixed(0) ?? "–").padStart(17)}`
)
console.log(`${"".padEnd(18)} an Idempotency-Key adds ${overhead === undefined ? "–" : `${(overhead * 100).toFixed(0)} %`} CPU per request (goal ≤ 15 %) ${overhead !== undefined && overhead <= 0.15 ? "ok" : "MISSED"}`)
const f = floorResult
console.log(`HttpApi floor: an HttpApi endpoint answering a constant, no work: ${f.rps.toFixed(0)} req/s, p99 ${f.p99} ms, ${f.cpu?.toFixed(0) ?? "–"} µs CPU/req = ${f.cpu !== undefined && results["GET account"].peer.cpu !== undefined ? (f.cpu / results["GET account"].peer.cpu).toFixed(2) : "–"}× the peer's GET account`)

// ---- Postgres: 1 and 3 replicas ------------------------------------------------------------

const adminUrl = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const admin = new pg.Client({ connectionString: adminUrl })
const reachable = await admin.connect().then(() => true, () => false)
if (!reachable) {
  console.log(`\nPostgres: skipped (no Postgres at ${adminUrl}; set BENCH_POSTGRES_URL)`)
} else {
  const name = `acct_bench_${Math.random().toString(36).slice(2, 10)}`
  await admin.query(`CREATE DATABASE ${name}`)
  const pgUrl = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString()
  const onPg = { ACCT_DATABASE: pgUrl }
  try {
    const first = await start(server, 18911, { ...onPg, LOG_LEVEL: "Info" })
    const pgJane = (await get(18911, "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).data[0].id
    const pgAction = (await get(18911, "/api/v1/account-actions")).data.find((a) => a.attributes.name === "Set status").id
    const pgRoutes = {
      "GET account": { path: `/api/v1/accounts/${pgJane}`, method: "GET" },
      "POST run-action": { path: `/api/v1/accounts/${pgJane}/run-action`, method: "POST", body: JSON.stringify({ data: { "account-action-id": pgAction, parameters: { status: "activated" } } }) }
    }
    const table = {}
    for (const [name, route] of Object.entries(pgRoutes)) table[name] = { "acct ×1": await loadAll(["http://127.0.0.1:18911"], route) }
    const more = [await start(server, 18912, { ...onPg, LOG_LEVEL: "Info" }), await start(server, 18913, { ...onPg, LOG_LEVEL: "Info" })]
    for (const [name, route] of Object.entries(pgRoutes)) table[name]["acct ×3"] = await loadAll(["http://127.0.0.1:18911", "http://127.0.0.1:18912", "http://127.0.0.1:18913"], route)
    for (const child of [first, ...more]) await stop(child)
    const rawServer = await start(rawPg, 18914, onPg)
    for (const [name, route] of Object.entries(pgRoutes)) table[name].raw = await loadAll(["http://127.0.0.1:18914"], route)
    await stop(rawServer)

    console.log(`\nPostgres (same machine), ${connections} connections split across the replicas`)
    console.log("route              server    req/s    p50 ms  p99 ms  non-2xx  ratio to raw")
    for (const [name, rows] of Object.entries(table)) {
      for (const label of ["raw", "acct ×1", "acct ×3"]) {
        const r = rows[label]
        console.log(`${name.padEnd(18)} ${label.padEnd(8)} ${r.rps.toFixed(0).padStart(7)}  ${String(r.p50).padStart(6)}  ${String(r.p99).padStart(6)}  ${String(r.non2xx).padStart(7)}  ${(r.rps / rows.raw.rps).toFixed(2)}×`)
      }
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined)
    await admin.end()
  }
}
