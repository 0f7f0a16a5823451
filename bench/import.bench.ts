/**
 * Import of 100,000 CSV rows (Persona's importer columns) into a fresh store: rows per second
 * from the call until the importer is `ready`, on SQLite and (when reachable) Postgres, and
 * through the HTTP service (a multipart upload to POST /api/v1/importer/accounts, then
 * GET /importers/{id} until ready), beside raw better-sqlite3 inserting the same rows (one
 * prepared INSERT per row, 500 rows per transaction, same JSON documents) in the same run.
 * Goal: ≥ 2,000 rows/s.
 */
import { Accounts, ApiKeys, type ImporterId, Principal } from "@acct/core"
import { demoCatalog, loadCatalog, parseCatalog, storeFor } from "@acct/store-sql"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import Database from "better-sqlite3"
import { Effect, Either, Layer, Logger, LogLevel, ManagedRuntime, Option } from "effect"
import { createServer } from "node:http"
import { spawnSync } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { appLayer } from "../apps/server/src/app.js"
import { AccessLog } from "../apps/server/src/log.js"

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000)
const GOAL = 2000
const dir = mkdtempSync(path.join(tmpdir(), "acct-import-bench-"))
const principal = Principal.make({ actor: { kind: "cli", id: "bench", name: "bench" }, scopes: ["admin"] })

const firsts = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken"]
const lasts = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]
const rows = Array.from({ length: ROWS }, (_, i) => ({
  reference: `bench-${i}`,
  first: firsts[i % firsts.length]!,
  last: lasts[(i * 7) % lasts.length]!,
  birthdate: `19${String(50 + (i % 50)).padStart(2, "0")}-0${1 + (i % 9)}-1${i % 10}`,
  tags: i % 3 === 0 ? "vip,beta" : ""
}))
const csv = ["reference_id,name_first,name_middle,name_last,birthdate,social_security_number,tags", ...rows.map((r) => `${r.reference},${r.first},,${r.last},${r.birthdate},,"${r.tags}"`)].join("\n")

const raw = (): number => {
  const db = new Database(path.join(dir, "raw.db"))
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  db.exec(`
    CREATE TABLE accounts (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, reference_id TEXT UNIQUE, account_type_id TEXT, status TEXT, fields TEXT, tags TEXT, version INTEGER, created_at TEXT, updated_at TEXT);
    CREATE TABLE account_tags (account_id TEXT, tag TEXT, PRIMARY KEY (account_id, tag));
    CREATE TABLE audit_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT, actor_id TEXT, operation TEXT, account_id TEXT);
  `)
  const insert = db.prepare("INSERT INTO accounts (id, reference_id, account_type_id, status, fields, tags, version, created_at, updated_at) VALUES (?, ?, 'acttp_1', 'deactivated', ?, ?, 1, ?, ?)")
  const tag = db.prepare("INSERT INTO account_tags VALUES (?, ?)")
  const audit = db.prepare("INSERT INTO audit_log (at, actor_id, operation, account_id) VALUES (?, 'bench', 'import', ?)")
  const chunk = db.transaction((part: typeof rows) => {
    const at = new Date().toISOString()
    for (const r of part) {
      const id = `act_${randomUUID()}`
      const tags = r.tags === "" ? [] : r.tags.split(",")
      const fields = { name: { type: "hash", value: { first: { type: "string", value: r.first }, middle: { type: "string", value: null }, last: { type: "string", value: r.last } } }, birthdate: { type: "date", value: r.birthdate } }
      insert.run(id, r.reference, JSON.stringify(fields), JSON.stringify(tags), at, at)
      for (const t of tags) tag.run(id, t)
      audit.run(at, id)
    }
  })
  const start = performance.now()
  for (let i = 0; i < rows.length; i += 500) chunk(rows.slice(i, i + 500))
  const elapsed = performance.now() - start
  db.close()
  return (ROWS / elapsed) * 1000
}

/** The acct store on `database` with the demo catalog: import the file, wait until ready. */
const acct = (database: string): Promise<{ rate: number; created: number }> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const start = performance.now()
      const started = yield* accounts.importAccounts({ csv }, { principal, channel: "cli" })
      let importer = started
      while (importer.status === "pending") {
        yield* Effect.sleep("100 millis")
        importer = yield* accounts.getImporter(started.id as ImporterId)
      }
      const elapsed = performance.now() - start
      if (importer.status !== "ready") throw new Error(`import ended ${importer.status}`)
      return { rate: (ROWS / elapsed) * 1000, created: importer.successfulCount }
    }).pipe(
      Effect.provide(
        Layer.effectDiscard(loadCatalog(Either.getOrThrow(parseCatalog(JSON.stringify(demoCatalog), "demo", "json")), "demo")).pipe(Layer.provideMerge(storeFor(database)))
      ),
      Effect.orDie
    )
  )

const pgAdmin = new URL(process.env.ACCT_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
/** A fresh Postgres database (createdb), or undefined when none is reachable. */
const pgDatabase = (): string | undefined => {
  const name = `acct_import_bench_${process.env.BENCH_DB_TAG ?? ""}${Math.random().toString(36).slice(2, 10)}`
  const made = spawnSync("createdb", ["-h", pgAdmin.hostname, "-p", pgAdmin.port || "5432", "-U", pgAdmin.username || "postgres", name], { timeout: 10_000 })
  if (made.status !== 0) return undefined
  const url = new URL(pgAdmin)
  url.pathname = `/${name}`
  return url.toString()
}
const dropPg = (url: string) => spawnSync("dropdb", ["-h", pgAdmin.hostname, "-p", pgAdmin.port || "5432", "-U", pgAdmin.username || "postgres", "--force", new URL(url).pathname.slice(1)], { timeout: 10_000 })

/** The same file through the HTTP service on a fresh SQLite file: multipart upload, then polling. */
const http = async (): Promise<{ rate: number; created: number }> => {
  const database = path.join(dir, "http.db")
  const runtime = ManagedRuntime.make(
    appLayer({ port: 0, host: "127.0.0.1", profile: Option.none(), database, bootstrapKey: Option.none(), seedDemo: true, maxBodyBytes: 1 << 20, maxImportBytes: 64 << 20, rateLimit: 1e9, idempotencyStaleSeconds: 30, shutdownGraceSeconds: 10, shutdownReadinessDelaySeconds: 0, dbPoolSize: 10, dbStatementTimeoutMs: 5000, dbConnectRetrySeconds: 0 }).pipe(
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
      Layer.provide(AccessLog.stdout),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
    )
  )
  try {
    const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (server) => server.address))
    const base = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
    const { secret } = await runtime.runPromise(Effect.flatMap(ApiKeys, (keys) => keys.create({ name: "bench", scopes: ["admin"] })))
    const headers = { authorization: `Bearer ${secret}` }
    const form = new FormData()
    form.append("data[attributes][file]", new Blob([csv], { type: "text/csv" }), "bench.csv")
    const start = performance.now()
    const created = await fetch(`${base}/api/v1/importer/accounts`, { method: "POST", headers, body: form })
    if (created.status !== 201) throw new Error(`import answered ${created.status}: ${await created.text()}`)
    const id = ((await created.json()) as { data: { id: string } }).data.id
    for (;;) {
      const got = (await (await fetch(`${base}/api/v1/importers/${id}`, { headers })).json()) as { data: { attributes: { status: string; "successful-count": number } } }
      if (got.data.attributes.status !== "pending") {
        if (got.data.attributes.status !== "ready") throw new Error(`import ended ${got.data.attributes.status}`)
        return { rate: (ROWS / (performance.now() - start)) * 1000, created: got.data.attributes["successful-count"] }
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } finally {
    await runtime.dispose()
  }
}

const rawRate = raw()
const sqlite = await acct(path.join(dir, "acct.db"))
const pg = pgDatabase()
const postgres = pg ? await acct(pg) : undefined
if (pg) dropPg(pg)
const overHttp = await http()
const line = (name: string, r: { rate: number; created: number }) =>
  `${name.padEnd(22)}${r.rate.toFixed(0).padStart(8)} rows/s   ${(r.rate / rawRate).toFixed(2)}× raw   ${r.created} created   goal ≥ ${GOAL} rows/s  ${r.rate >= GOAL ? "ok" : "MISSED"}`
console.log(`import of ${ROWS} CSV rows (call → importer ready), chunks of 500 rows per transaction`)
console.log(`raw better-sqlite3    ${rawRate.toFixed(0).padStart(8)} rows/s   (prepared inserts, no parsing or validation)`)
console.log(line("acct store, SQLite", sqlite))
console.log(postgres ? line("acct store, Postgres", postgres) : "acct store, Postgres   skipped (no Postgres reachable)")
console.log(line("HTTP multipart, SQLite", overHttp))
