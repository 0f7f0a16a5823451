/**
 * An import accepted by a built server survives the server: SIGKILLed mid-import, then stopped
 * with SIGTERM mid-import, each time started again on the same database, it goes on from where
 * it was and ends with the counts of one uninterrupted import — every row created, duplicated or
 * refused exactly once (SQLite, and Postgres when reachable).
 */
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { freshDatabase, onDatabase, postgresReachable } from "./postgres.js"

const SERVER = fileURLToPath(new URL("../dist/server.mjs", import.meta.url))
const KEY = "acct_import_restart_test_key_0123456789"

const ROWS = 30_000
/** Rows whose birthdate is impossible: refused, one error each. */
const refused = (i: number) => i % 997 === 500
/** Rows repeating an earlier row's reference id: duplicates. */
const repeated = (i: number) => i > 0 && i % 4001 === 0
const csv = [
  "reference_id,name_first,name_last,birthdate,tags",
  ...Array.from({ length: ROWS }, (_, i) => `${repeated(i) ? "imp-0" : `imp-${i}`},Ada${i},Lovelace,${refused(i) ? "1990-13-01" : "1990-01-01"},${i % 3 === 0 ? "vip" : ""}`)
].join("\n")
const expectedRefused = Array.from({ length: ROWS }, (_, i) => i).filter(refused)
const expectedDuplicates = Array.from({ length: ROWS }, (_, i) => i).filter(repeated).length
const expectedCreated = ROWS - expectedRefused.length - expectedDuplicates

const running: Array<ChildProcess> = []
afterEach(() => {
  for (const p of running.splice(0)) p.kill("SIGKILL")
})

const start = (database: string) =>
  new Promise<{ process: ChildProcess; url: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER], {
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ACCT_DATABASE: database, ACCT_BOOTSTRAP_KEY: KEY, ACCT_RATE_LIMIT: "1000000", ACCT_WEBHOOK_KEY: Buffer.alloc(32, 7).toString("base64"), ACCT_IMPORT_LEASE_MS: "1000", ACCT_SHUTDOWN_READINESS_DELAY_SECONDS: "0" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    running.push(child)
    let out = ""
    const listening = (chunk: Buffer) => {
      out += chunk
      const found = /Listening on (http:\/\/[\d.:]+)/.exec(out)
      if (found) resolve({ process: child, url: found[1]! })
    }
    child.stdout!.on("data", listening)
    child.stderr!.on("data", (chunk: Buffer) => (out += chunk))
    child.once("exit", (code) => reject(new Error(`server exited ${code}: ${out.slice(-500)}`)))
    setTimeout(() => reject(new Error(`server did not start: ${out.slice(-500)}`)), 30_000)
  })

const stop = (server: { process: ChildProcess }, signal: "SIGKILL" | "SIGTERM") =>
  new Promise<void>((resolve) => {
    server.process.once("exit", () => resolve())
    server.process.kill(signal)
  })

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies, asserted field by field
const get = async (url: string): Promise<any> => (await fetch(url, { headers: { authorization: `Bearer ${KEY}` } })).json()

/** The importer's attributes once `until` holds (polling every 50 ms). */
const importerWhen = async (base: string, id: string, until: (attributes: Record<string, number | string>) => boolean) => {
  let attributes: Record<string, number | string> = {}
  for (const started = Date.now(); Date.now() - started < 90_000; ) {
    attributes = (await get(`${base}/api/v1/importers/${id}`)).data.attributes
    if (until(attributes)) return attributes
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`importer ${id} never got there: ${JSON.stringify(attributes)}`)
}

const backends = [
  {
    name: "SQLite",
    run: true,
    database: async () => ({ url: path.join(mkdtempSync(path.join(tmpdir(), "acct-import-restart-")), "acct.db"), drop: async () => undefined }),
    query: <A>(url: string, use: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
      Effect.runPromise(Effect.flatMap(SqlClient.SqlClient, use).pipe(Effect.provide(SqliteClient.layer({ filename: url, readonly: true }))) as Effect.Effect<A, unknown>)
  },
  { name: "Postgres", run: postgresReachable, database: () => freshDatabase("acct_persona_import_restart"), query: onDatabase }
]

describe.each(backends)("an import across server restarts ($name)", (backend) => {
  it.runIf(backend.run)("goes on after SIGKILL and after SIGTERM, and counts every row once", { timeout: 180_000 }, async () => {
    const database = await backend.database()
    try {
      let server = await start(database.url)
      const form = new FormData()
      form.append("data[attributes][file]", new Blob([csv], { type: "text/csv" }), "people.csv")
      const accepted = await fetch(`${server.url}/api/v1/importer/accounts`, { method: "POST", headers: { authorization: `Bearer ${KEY}` }, body: form })
      expect(accepted.status).toBe(201)
      const id = ((await accepted.json()) as { data: { id: string } }).data.id

      // First life: killed without warning part-way.
      await importerWhen(server.url, id, (a) => a.status === "pending" && Number(a["successful-count"]) >= 1000)
      await stop(server, "SIGKILL")
      const atKill = await backend.query(database.url, (sql) => sql<{ successful_count: number | string; next_row: number | string }>`SELECT successful_count, next_row FROM importers WHERE id = ${id}`)
      const createdAtKill = Number(atKill[0]!.successful_count)
      expect(createdAtKill).toBeGreaterThan(0)
      expect(Number(atKill[0]!.next_row)).toBeLessThan(ROWS)

      // Second life: it resumes once the dead process's lease runs out; then a graceful stop.
      server = await start(database.url)
      await importerWhen(server.url, id, (a) => a.status === "pending" && Number(a["successful-count"]) >= createdAtKill + 1000)
      await stop(server, "SIGTERM")

      // Third life: it finishes.
      server = await start(database.url)
      const done = await importerWhen(server.url, id, (a) => a.status !== "pending")
      expect(done).toMatchObject({ status: "ready", "successful-count": expectedCreated, "duplicate-count": expectedDuplicates, "error-count": expectedRefused.length })
      const errors: Array<{ row: number }> = []
      for (let url: string | null = `/api/v1/importers/${id}/errors?page%5Bsize%5D=100`; url !== null; ) {
        const page = await get(`${server.url}${url}`)
        errors.push(...page.data)
        url = page.links.next
      }
      // Each refused row once, in file order (its line: the header is line 1).
      expect(errors.map((e) => e.row)).toEqual(expectedRefused.map((i) => i + 2))

      const stored = await backend.query(database.url, (sql) =>
        Effect.all({
          accounts: sql<{ n: number | string }>`SELECT count(*) AS n FROM accounts WHERE reference_id LIKE 'imp-%'`,
          audit: sql<{ n: number | string }>`SELECT count(*) AS n FROM audit_log WHERE operation = 'import'`,
          created: sql<{ n: number | string }>`SELECT count(*) AS n FROM events WHERE name = 'account.created'`,
          files: sql<{ n: number | string }>`SELECT count(*) AS n FROM importer_files WHERE importer_id = ${id}`
        })
      )
      expect(Number(stored.accounts[0]!.n)).toBe(expectedCreated)
      expect(Number(stored.audit[0]!.n)).toBe(expectedCreated)
      // The demo's own accounts were created through the store too.
      expect(Number(stored.created[0]!.n)).toBeGreaterThanOrEqual(expectedCreated)
      expect(Number(stored.created[0]!.n)).toBeLessThan(expectedCreated + 20)
      // The file (personal data) is gone with the import's end.
      expect(Number(stored.files[0]!.n)).toBe(0)
      await stop(server, "SIGTERM")
    } finally {
      await database.drop()
    }
  })
})
