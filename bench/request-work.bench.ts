/**
 * Work per request, counted rather than timed: Effect operations (each step the fiber runtime
 * interprets) and SQL statements for GET account and POST run-action through the real service,
 * beside the same count for the framework floor (an HttpApi endpoint answering a constant; see
 * effect-floor-api.mjs). Counts repeat exactly from run to run, whatever else the machine is
 * doing, so they show a change in the request path that throughput figures (±10 % here) hide.
 * Then the CPU of the store's two calls, timed in process, split into the statements' own time
 * (better-sqlite3 and SQLite) and the rest (the store's Effect code).
 */
import { Accounts, ApiKeys, Principal } from "@acct/core"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import Database from "better-sqlite3"
import { Effect, Layer, Logger, ManagedRuntime, Option, RuntimeFlags, Supervisor } from "effect"
import { mkdtempSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import path from "node:path"
import { appLayer } from "../apps/server/src/app.js"
import { AccessLog } from "../apps/server/src/log.js"
import { floorServer } from "./effect-floor-api.mjs"

/** Counts every operation the runtime evaluates (with OpSupervision on) and every fiber started. */
class OpCounter extends Supervisor.AbstractSupervisor<void> {
  ops = 0
  fibers = 0
  value = Effect.void
  onEffect() {
    this.ops++
  }
  onStart() {
    this.fibers++
  }
}

// Every statement better-sqlite3 runs, counted at its Statement methods (and, while `timing`,
// the CPU spent inside them).
let statements = 0
let timing = false
let statementCpuUs = 0
const cpuUs = () => {
  const { user, system } = process.cpuUsage()
  return user + system
}
const prototypes = new Set<object>()
const originalPrepare = Database.prototype.prepare
Database.prototype.prepare = function (this: Database.Database, source: string) {
  const statement = originalPrepare.call(this, source)
  const proto = Object.getPrototypeOf(statement) as Record<string, (...args: Array<unknown>) => unknown>
  if (!prototypes.has(proto)) {
    prototypes.add(proto)
    for (const method of ["run", "all", "get", "iterate"]) {
      const original = proto[method]!
      proto[method] = function (this: unknown, ...args: Array<unknown>) {
        statements++
        if (!timing) return original.apply(this, args)
        const started = cpuUs()
        try {
          return original.apply(this, args)
        } finally {
          statementCpuUs += cpuUs() - started
        }
      }
    }
  }
  return statement
} as typeof Database.prototype.prepare

/** `server` on a loopback port, its log lines made and dropped. */
const quiet = <A, E>(server: Layer.Layer<A, E>) =>
  server.pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provide(Logger.replace(Logger.defaultLogger, Logger.make(() => undefined)))
  )

const counted = <A, E>(server: Layer.Layer<A, E>) => {
  const counter = new OpCounter()
  const layer = quiet(server).pipe(Layer.provide(Supervisor.addSupervisor(counter)), Layer.provide(RuntimeFlags.enableOpSupervision))
  return { counter, runtime: ManagedRuntime.make(layer) }
}

/** The service on a new demo database; the access log's lines are made (part of a request's work) and dropped. */
const acctOn = (database: string) =>
  appLayer({ port: 0, host: "127.0.0.1", profile: Option.none(), database, bootstrapKey: Option.none(), seedDemo: true, maxBodyBytes: 1 << 20, maxImportBytes: 64 << 20, rateLimit: 1e9, dbPoolSize: 10, dbStatementTimeoutMs: 5000, dbConnectRetrySeconds: 0 }).pipe(
    Layer.provide(AccessLog.lines(() => undefined))
  )

const baseUrl = (runtime: ManagedRuntime.ManagedRuntime<HttpServer.HttpServer, unknown>) =>
  runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => (s.address._tag === "TcpAddress" ? `http://127.0.0.1:${s.address.port}` : "")))

/** Mean ops and statements over `n` calls of `call`, after a warm-up. */
const measureCalls = async (counter: OpCounter, call: () => Promise<unknown>, n = 50) => {
  for (let i = 0; i < 5; i++) await call()
  counter.ops = 0
  counter.fibers = 0
  statements = 0
  for (let i = 0; i < n; i++) await call()
  return { ops: counter.ops / n, fibers: counter.fibers / n, statements: statements / n }
}

/** The same over `n` requests, each read to its end and required to succeed. */
const measure = (counter: OpCounter, send: () => Promise<Response>, n = 50) =>
  measureCalls(
    counter,
    async () => {
      const response = await send()
      await response.arrayBuffer()
      if (response.status >= 300) throw new Error(`unexpected ${response.status}`)
    },
    n
  )

// ---- the floor -----------------------------------------------------------------------------
const floor = counted(floorServer)
const floorUrl = await baseUrl(floor.runtime)
const floorWork = await measure(floor.counter, () => fetch(`${floorUrl}/healthz`))
await floor.runtime.dispose()

// ---- acct ----------------------------------------------------------------------------------
const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-request-work-")), "acct.db")
const acct = counted(acctOn(database))
const acctUrl = await baseUrl(acct.runtime)
const { secret } = await acct.runtime.runPromise(Effect.flatMap(ApiKeys, (k) => k.create({ name: "bench", scopes: ["admin"] })))
const headers = { authorization: `Bearer ${secret}`, "content-type": "application/json" }
const getJson = async (url: string) => (await (await fetch(`${acctUrl}${url}`, { headers })).json()) as { data: Array<{ id: string; attributes: { name: string } }> }
const jane = (await getJson("/api/v1/accounts?filter%5Breference-id%5D=abc-123")).data[0]!.id
const action = (await getJson("/api/v1/account-actions")).data.find((a) => a.attributes.name === "Set status")!.id
const runAction = JSON.stringify({ data: { "account-action-id": action, parameters: { status: "activated" } } })
const rows = {
  "GET account": await measure(acct.counter, () => fetch(`${acctUrl}/api/v1/accounts/${jane}`, { headers })),
  "POST run-action": await measure(acct.counter, () => fetch(`${acctUrl}/api/v1/accounts/${jane}/run-action`, { method: "POST", headers, body: runAction })),
  "POST run-action + Idempotency-Key": await measure(acct.counter, () =>
    fetch(`${acctUrl}/api/v1/accounts/${jane}/run-action`, { method: "POST", headers: { ...headers, "idempotency-key": crypto.randomUUID() }, body: runAction })
  )
}
// The store alone (the same calls the handlers make, without HTTP): what the edge adds is the rest.
const invocation = { principal: Principal.make({ actor: { kind: "api-key", id: "key_bench", name: "bench" }, scopes: ["admin"] }), channel: "http" as const }
const storeCall = <A>(f: (accounts: typeof Accounts.Service) => Effect.Effect<A, unknown>) => () => acct.runtime.runPromise(Effect.flatMap(Accounts, f))
const store = {
  "store: get": await measureCalls(acct.counter, storeCall((a) => a.get({ id: jane } as never))),
  "store: runAction": await measureCalls(acct.counter, storeCall((a) => a.runAction({ id: jane } as never, action, { status: "activated" }, invocation)))
}
await acct.runtime.dispose()

// CPU of the same store calls, many in a row in one process, on a runtime without the op
// counter (op supervision slows every operation): what a call costs, and how much of it is
// better-sqlite3 running the statements (SQLite's own work included). Varies with the machine
// and its load, unlike the counts; a request through HTTP runs colder and costs more.
const timedDatabase = path.join(mkdtempSync(path.join(tmpdir(), "acct-request-cpu-")), "acct.db")
const timed = ManagedRuntime.make(quiet(acctOn(timedDatabase)))
const timedJane = (await timed.runPromise(Effect.flatMap(Accounts, (a) => a.get({ referenceId: "abc-123" })))).id
const timedAction = (await timed.runPromise(Effect.flatMap(Accounts, (a) => a.getAction("Set status")))).id
const cpuPerCall = async (call: Effect.Effect<unknown, unknown, Accounts>, n = 2000) => {
  for (let i = 0; i < 200; i++) await timed.runPromise(call)
  statementCpuUs = 0
  timing = true
  const started = cpuUs()
  for (let i = 0; i < n; i++) await timed.runPromise(call)
  const total = (cpuUs() - started) / n
  timing = false
  return { total, sql: statementCpuUs / n }
}
const cpu = {
  "store: get": await cpuPerCall(Effect.flatMap(Accounts, (a) => a.get({ id: timedJane } as never))),
  "store: runAction": await cpuPerCall(Effect.flatMap(Accounts, (a) => a.runAction({ id: timedJane } as never, timedAction, { status: "activated" }, invocation)))
}
await timed.dispose()

console.log("work per request (counted, exact)     Effect ops  × floor  fibers  SQL statements")
const row = (name: string, r: { ops: number; fibers: number; statements: number }) =>
  console.log(`${name.padEnd(36)} ${r.ops.toFixed(0).padStart(10)}  ${`${(r.ops / floorWork.ops).toFixed(1)}×`.padStart(7)}  ${r.fibers.toFixed(1).padStart(6)}  ${r.statements.toFixed(0).padStart(14)}`)
row("framework floor (constant answer)", floorWork)
for (const [name, r] of [...Object.entries(rows), ...Object.entries(store)]) row(name, r)
console.log("\nCPU per store call, in process (2,000 in a row)   µs per call   in SQL statements   the rest")
for (const [name, r] of Object.entries(cpu)) {
  console.log(`${name.padEnd(48)} ${r.total.toFixed(0).padStart(11)}  ${r.sql.toFixed(0).padStart(18)}  ${(r.total - r.sql).toFixed(0).padStart(9)}`)
}
