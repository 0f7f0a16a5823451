/**
 * Another process holding SQLite's write lock (`BEGIN EXCLUSIVE`) must not freeze the service:
 * better-sqlite3 waits out `busy_timeout` synchronously, on the event loop, so with the old 5 s
 * timeout every request of the process — /healthz included — stalled 5 s per attempt. Now the
 * timeout is short and busy statements are retried asynchronously under RetryPolicy; a write that
 * still cannot get the lock is a 503 that says the database is busy.
 */
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer } from "./harness.js"

const betterSqlite3 = createRequire(import.meta.url).resolve("better-sqlite3")

let server: Awaited<ReturnType<typeof startServer>>
beforeAll(async () => void (server = await startServer()))
afterAll(() => server.close())

/** Another process that takes the write lock, holds it for `ms`, then lets go. */
const holdLock = (database: string, ms: number) =>
  new Promise<{ released: Promise<void> }>((resolve, reject) => {
    const script = `const D = require(${JSON.stringify(betterSqlite3)}); const db = new D(${JSON.stringify(database)}); db.exec("BEGIN EXCLUSIVE"); console.log("locked"); setTimeout(() => { db.exec("COMMIT"); process.exit(0) }, ${ms})`
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] })
    const released = new Promise<void>((r) => child.once("exit", () => r()))
    child.stdout!.once("data", () => resolve({ released }))
    child.once("error", reject)
  })

describe("a SQLite write lock held by another process", () => {
  it("never blocks the event loop: /healthz and reads answer at once, a write is retried or refused as busy", async () => {
    const jane = (await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0].id as string
    const { released } = await holdLock(server.database, 2500)
    const started = Date.now()
    const write = server.call("POST", `/api/v1/accounts/${jane}/add-tag`, { body: { meta: { "tag-name": "while-locked" } } }).then((r) => ({ ...r, at: Date.now() - started }))
    const slowest = { health: 0, read: 0 }
    while (Date.now() - started < 2000) {
      const t0 = Date.now()
      expect((await server.call("GET", "/healthz", { key: null })).status).toBe(200)
      slowest.health = Math.max(slowest.health, Date.now() - t0)
      const t1 = Date.now()
      expect((await server.call("GET", `/api/v1/accounts/${jane}`)).status).toBe(200)
      slowest.read = Math.max(slowest.read, Date.now() - t1)
    }
    expect(slowest.health, "every /healthz answered within 250 ms").toBeLessThan(250)
    expect(slowest.read, "every read answered within 250 ms").toBeLessThan(250)
    const written = await write
    expect([200, 503], written.text).toContain(written.status)
    if (written.status === 503) expect(written.json.errors[0].details).toMatch(/busy/)
    await released
    // Once the lock is gone, writes go through again.
    expect((await server.call("POST", `/api/v1/accounts/${jane}/add-tag`, { body: { meta: { "tag-name": "after-lock" } } })).status).toBe(200)
  }, 30_000)
})
