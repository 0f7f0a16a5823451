/**
 * Search over 100,000 accounts (BENCH_SEARCH_ACCOUNTS) through the built HTTP service, one
 * request at a time on a kept-alive connection: a selective field predicate, a boolean query,
 * and sorts over all accounts, p50 / p99 beside `GET /accounts?filter[reference-id]=…` (the
 * baseline, measured in the same run) on SQLite, and on Postgres when one is reachable
 * (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres).
 * Goal: selective search p99 ≤ 50 ms at 100k accounts on SQLite.
 *
 * The accounts are written in bulk with SQL under a catalog with nothing searchable; loading the
 * demo catalog (which marks name, email, birthdate and country searchable) then builds the search
 * values through the store's own rebuild, the path an operator's catalog change takes. Its time
 * is printed too. BENCH_SEARCH_REQUESTS (default 400) requests per scenario, interleaved (one of
 * each per round), with the server's CPU time per request beside the latencies.
 */
import { Accounts } from "@acct/core"
import { type CatalogInput, demoCatalog, loadCatalog, parseCatalog, storeFor } from "@acct/store-sql"
import { SqlClient } from "@effect/sql"
import { Effect, Either } from "effect"
import pg from "pg"
import { mkdtempSync, readFileSync } from "node:fs"
import { Agent, request } from "node:http"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { spawn, spawnSync } from "node:child_process"

const N = Number(process.env.BENCH_SEARCH_ACCOUNTS ?? 100_000)
const REQUESTS = Number(process.env.BENCH_SEARCH_REQUESTS ?? 400)
const KEY = "acct_bench_key_0123456789abcdefghijklmnop"
// run.mjs runs the bundle from bench/.out/.
const SERVER = fileURLToPath(new URL(`${import.meta.url.includes("/.out/") ? "../" : ""}../apps/server/dist/server.mjs`, import.meta.url))
const pgAdmin = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

const STATUSES = ["pending", "activated", "deactivated", "disabled"]
const COUNTRIES = ["US", "DE", "FR", "GB", "NL", "SE", "ES", "IT", "PL", "JP"]

const text = (value: string | null) => ({ type: "string", value })
const fieldsOf = (i: number) => ({
  name: { type: "hash", value: { first: text(`First${i % 5000}`), middle: text(null), last: text(`Last${i % 997}`) } },
  email_address: { type: "email-address", value: `user${i}@example.com` },
  birthdate: { type: "date", value: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}` },
  address: { type: "hash", value: { street_1: text(`${i} Main St`), street_2: text(null), subdivision: text(null), city: text("Springfield"), postal_code: text(String(10000 + (i % 90000))), country_code: text(COUNTRIES[i % COUNTRIES.length]!) } }
})

/** The demo catalog with no field searchable (what the accounts are written under). */
const unsearchable = (catalog: CatalogInput): CatalogInput => {
  const strip = (f: Record<string, unknown>): Record<string, unknown> => {
    const { searchable: _, ...rest } = f
    return { ...rest, ...(Array.isArray(f.fields) ? { fields: (f.fields as Array<Record<string, unknown>>).map(strip) } : {}) }
  }
  return { ...catalog, accountTypes: catalog.accountTypes!.map((t) => ({ ...t, fields: (t.fields as unknown as Array<Record<string, unknown>>).map(strip) as never })) }
}

const load = (catalog: CatalogInput) => loadCatalog(Either.getOrThrow(parseCatalog(JSON.stringify(catalog), "bench.json")), "bench")

/** Writes N accounts in bulk, then turns search on for them; answers the seconds the rebuild took. */
const fill = (database: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* load(unsearchable(demoCatalog))
    const type = (yield* Effect.flatMap(Accounts, (a) => a.listTypes()))[0]!
    const base = Date.parse("2025-01-01T00:00:00Z")
    for (let start = 0; start < N; start += 1000) {
      yield* sql.withTransaction(
        Effect.gen(function* () {
          const ids = Array.from({ length: Math.min(1000, N - start) }, (_, k) => start + k)
          for (let c = 0; c < ids.length; c += 250) {
            const rows = ids.slice(c, c + 250).map((i) => {
              const at = new Date(base + i * 60_000).toISOString()
              return {
                id: `act_bench${String(i).padStart(19, "0")}`,
                reference_id: `ref-${i}`,
                account_type_id: type.id,
                status: STATUSES[i % 4]!,
                fields: JSON.stringify(fieldsOf(i)),
                tags: JSON.stringify(i % 20 === 0 ? ["vip"] : []),
                version: 1,
                created_at: at,
                updated_at: at,
                redacted_at: null,
                consolidated_into: null
              }
            })
            yield* sql`INSERT INTO accounts ${sql.insert(rows)}`
            const vip = rows.filter((r) => r.tags !== "[]").map((r) => ({ account_id: r.id, tag: "vip" }))
            if (vip.length > 0) yield* sql`INSERT INTO account_tags ${sql.insert(vip)}`
          }
        })
      )
    }
    const t0 = performance.now()
    yield* load(demoCatalog)
    const rebuild = (performance.now() - t0) / 1000
    if (database.startsWith("postgres")) yield* sql`ANALYZE`
    return rebuild
  }).pipe(Effect.provide(storeFor(database)))

const agent = new Agent({ keepAlive: true, maxSockets: 1 })
const call = (port: number, method: string, url: string, body?: unknown) =>
  new Promise<{ status: number; json: { data: Array<unknown> } }>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = request({ host: "127.0.0.1", port, method, path: url, agent, headers: { authorization: `Bearer ${KEY}`, ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}) } }, (res) => {
      let data = ""
      res.setEncoding("utf8")
      res.on("data", (c) => (data += c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(data) }))
    })
    req.on("error", reject)
    req.end(payload)
  })

interface Scenario {
  readonly name: string
  /** Expected number of results, to catch a bench that measures errors or empty pages. */
  readonly expect: (count: number) => boolean
  readonly send: (port: number, i: number) => ReturnType<typeof call>
}

const random = () => Math.floor(Math.random() * N)
const search = (port: number, body: unknown) => call(port, "POST", "/api/v1/accounts/search", body)
const idOf = (i: number) => `act_bench${String(i).padStart(19, "0")}`

const scenarios: ReadonlyArray<Scenario> = [
  { name: "GET /accounts?filter[reference-id] (baseline)", expect: (n) => n === 1, send: (port) => call(port, "GET", `/api/v1/accounts?filter%5Breference-id%5D=ref-${random()}`) },
  { name: "search identifiers.reference_id eq", expect: (n) => n === 1, send: (port) => search(port, { query: { attribute: "identifiers.reference_id", operator: "eq", value: `ref-${random()}` } }) },
  { name: "search fields.email_address eq (selective)", expect: (n) => n === 1, send: (port) => search(port, { query: { attribute: "fields.email_address", operator: "eq", value: `USER${random()}@example.com` } }) },
  {
    name: "search boolean: last name and (status or tag) and not country",
    // ≈ 28 of the 100 accounts with that last name, at 100k accounts.
    expect: (n) => n >= (N >= 50_000 ? 1 : 0),
    send: (port) =>
      search(port, {
        query: { and: [
          { attribute: "fields.name.last", operator: "eq", value: `Last${random() % 997}` },
          { or: [{ attribute: "status", operator: "eq", value: "activated" }, { attribute: "tags", operator: "eq", value: "vip" }] },
          { not: { attribute: "fields.address.country_code", operator: "eq", value: "DE" } }
        ] }
      })
  },
  { name: "search sort over all: created_at asc, first page", expect: (n) => n === 10, send: (port) => search(port, { sort: { attribute: "created_at", direction: "asc" } }) },
  { name: "search sort over all: created_at asc, after a random account", expect: (n) => n >= 1, send: (port) => call(port, "POST", `/api/v1/accounts/search?page%5Bafter%5D=${idOf(random())}`, { sort: { attribute: "created_at", direction: "asc" } }) },
  { name: "search sort over all: fields.name.last asc, first page", expect: (n) => n === 10, send: (port) => search(port, { sort: { attribute: "fields.name.last", direction: "asc" } }) },
  { name: "search sort over all: fields.name.last desc, after a random", expect: (n) => n >= 1, send: (port) => call(port, "POST", `/api/v1/accounts/search?page%5Bafter%5D=${idOf(random())}`, { sort: { attribute: "fields.name.last", direction: "desc" } }) },
  { name: "search range: fields.birthdate gte, 1 in 50", expect: (n) => n === 10, send: (port) => search(port, { query: { attribute: "fields.birthdate", operator: "gte", value: "1999-01-01" } }) }
]

const clockTicks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100
/** CPU time (user + system) a process has used so far, in ms (0 off Linux). */
const cpuMs = (pid: number) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks
  } catch {
    return 0
  }
}

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

const measure = async (label: string, database: string) => {
  const t0 = performance.now()
  const rebuild = await Effect.runPromise(fill(database))
  console.log(`${label}: ${N.toLocaleString("en")} accounts written in ${((performance.now() - t0) / 1000).toFixed(1)} s; search values built (catalog load) in ${rebuild.toFixed(1)} s`)
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  // Warnings only (no access log): ready when /readyz says so.
  const server = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", ACCT_DATABASE: database, ACCT_BOOTSTRAP_KEY: KEY, ACCT_RATE_LIMIT: "1000000000", ACCT_SHUTDOWN_READINESS_DELAY_SECONDS: "0", LOG_LEVEL: "Warning" }, stdio: ["ignore", "inherit", "inherit"] })
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()))
  for (let tries = 0; ; tries++) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)
    if (ready) break
    if (tries > 300) throw new Error("the server did not get ready")
    await new Promise((r) => setTimeout(r, 100))
  }
  try {
    for (const scenario of scenarios) for (let i = 0; i < 30; i++) await scenario.send(port, i)
    // Interleaved, one request of each scenario per round: on a shared machine every scenario
    // sees the same load. Server CPU per request is summed from /proc per request (10 ms ticks,
    // so it is an average over many requests, not a figure per request).
    const times = scenarios.map(() => [] as Array<number>)
    const cpu = scenarios.map(() => 0)
    for (let i = 0; i < REQUESTS; i++) {
      for (const [n, scenario] of scenarios.entries()) {
        const cpuBefore = cpuMs(server.pid!)
        const start = performance.now()
        const answer = await scenario.send(port, i)
        times[n]!.push(performance.now() - start)
        cpu[n]! += cpuMs(server.pid!) - cpuBefore
        if (answer.status !== 200 || !scenario.expect(answer.json.data.length)) throw new Error(`${scenario.name}: ${answer.status} with ${answer.json.data?.length} results: ${JSON.stringify(answer.json).slice(0, 300)}`)
      }
    }
    const rows = scenarios.map((scenario, n) => {
      const sorted = times[n]!.sort((a, b) => a - b)
      return [scenario.name, percentile(sorted, 50), percentile(sorted, 99), cpu[n]! / REQUESTS] as [string, number, number, number]
    })
    const baseline = rows[0]![1]
    const baselineCpu = rows[0]![3]
    console.log(`${"scenario".padEnd(64)}${"p50 ms".padStart(8)}${"p99 ms".padStart(8)}${"p50 ÷ base".padStart(12)}${"CPU ms/req".padStart(12)}${"CPU ÷ base".padStart(12)}`)
    for (const [name, p50, p99, cpuPerRequest] of rows) {
      console.log(`${name.padEnd(64)}${p50.toFixed(2).padStart(8)}${p99.toFixed(2).padStart(8)}${`${(p50 / baseline).toFixed(2)}×`.padStart(12)}${cpuPerRequest.toFixed(2).padStart(12)}${`${(cpuPerRequest / baselineCpu).toFixed(2)}×`.padStart(12)}`)
    }
    return rows
  } finally {
    server.kill("SIGTERM")
    await exited
  }
}

const sqliteRows = await measure("SQLite", path.join(mkdtempSync(path.join(tmpdir(), "acct-search-bench-")), "acct.db"))
const selective = sqliteRows.find(([name]) => name.includes("selective"))!
console.log(`goal (SQLite, ${N.toLocaleString("en")} accounts): selective search p99 ${selective[2].toFixed(1)} ms ≤ 50 ms: ${selective[2] <= 50 ? "met" : "NOT met"}`)

const admin = async (statement: string) => {
  const client = new pg.Client({ connectionString: pgAdmin, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}
const reachable = await admin("SELECT 1").then(() => true, () => false)
if (reachable) {
  const name = `acct_search_bench_${process.env.BENCH_DB_TAG ?? ""}${Math.random().toString(36).slice(2, 10)}`
  await admin(`CREATE DATABASE ${name}`)
  try {
    const url = new URL(pgAdmin)
    url.pathname = `/${name}`
    await measure("Postgres", url.toString())
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  }
} else {
  console.log(`Postgres: not reachable at ${pgAdmin}, skipped`)
}
agent.destroy()
