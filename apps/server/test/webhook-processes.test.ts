/**
 * Webhook delivery across process deaths and replicas, with built servers: SIGKILL between
 * commit and delivery and during delivery (SQLite), and two and three replicas on one Postgres
 * sharing 1,000 events. Every committed event must reach the receiver; a duplicate only after a
 * kill, with the same webhook-id.
 */
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { type Behaviour, personaSignatureValid, startReceiver, standardWebhookValid } from "../../../packages/webhooks/test/receiver.js"
import { freshDatabase, onDatabase, postgresReachable } from "./postgres.js"

const SERVER = fileURLToPath(new URL("../dist/server.mjs", import.meta.url))
const KEY = "acct_webhook_process_test_key_0123456789"
const WEBHOOK_KEY = Buffer.alloc(32, 9).toString("base64")

interface Server {
  readonly process: ChildProcess
  readonly url: string
}

const running: Array<ChildProcess> = []
afterEach(() => {
  for (const p of running.splice(0)) p.kill("SIGKILL")
})

const start = (database: string, env: Record<string, string> = {}) =>
  new Promise<Server>((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER], {
      env: {
        ...process.env,
        PORT: "0",
        HOST: "127.0.0.1",
        ACCT_DATABASE: database,
        ACCT_BOOTSTRAP_KEY: KEY,
        ACCT_RATE_LIMIT: "1000000",
        ACCT_WEBHOOK_KEY: WEBHOOK_KEY,
        ACCT_WEBHOOK_ALLOWED_HOSTS: "127.0.0.1",
        ACCT_WEBHOOK_POLL_MS: "100",
        ACCT_WEBHOOK_RETRY_SCHEDULE: "0s,200ms,200ms,200ms,200ms,200ms",
        ...env
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    running.push(child)
    let out = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk
      const found = /Listening on (http:\/\/[\d.:]+)/.exec(out)
      if (found) resolve({ process: child, url: found[1]! })
    })
    child.stderr!.on("data", (chunk: Buffer) => (out += chunk))
    child.once("exit", (code) => reject(new Error(`server exited ${code}: ${out.slice(-500)}`)))
    setTimeout(() => reject(new Error(`server did not start: ${out.slice(-500)}`)), 30_000)
  })

/** SIGTERM; answers how long the process took to exit. */
const terminate = (server: Server) =>
  new Promise<number>((resolve) => {
    const sent = Date.now()
    server.process.once("exit", () => resolve(Date.now() - sent))
    server.process.kill("SIGTERM")
  })

const kill = (server: Server) =>
  new Promise<void>((resolve) => {
    server.process.once("exit", () => resolve())
    server.process.kill("SIGKILL")
  })

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies, asserted field by field
const call = async (server: Server, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  const text = await response.text()
  return { status: response.status, json: text ? JSON.parse(text) : undefined }
}

const webhookTo = async (server: Server, url: string) => {
  const made = await call(server, "POST", "/api/v1/webhooks", { data: { attributes: { name: "sink", url, "enabled-events": ["*"] } } })
  expect(made.status).toBe(201)
  expect((await call(server, "POST", `/api/v1/webhooks/${made.json.data.id}/enable`)).status).toBe(200)
  return { id: made.json.data.id as string, secret: made.json.data.attributes.secret as string }
}

/** A server on `database` with a webhook to `receiver`, and one tag added: answers once both its events reached the receiver. */
const tagWhileDelivering = async (database: string, receiver: Awaited<ReturnType<typeof startReceiver>>, tag: string, env: Record<string, string> = {}) => {
  const server = await start(database, env)
  await webhookTo(server, receiver.url)
  const [account] = await accountIds(server)
  await call(server, "POST", `/api/v1/accounts/${account}/add-tag`, { meta: { "tag-name": tag } })
  await receiver.until((all) => all.length >= 2)
  return server
}

const accountIds = async (server: Server) => ((await call(server, "GET", "/api/v1/accounts?page%5Bsize%5D=100")).json.data as Array<{ id: string }>).map((a) => a.id)

/** The ids of the events committed since `since`, read from the SQLite file. */
const eventIds = (database: string, since: string) =>
  Effect.runPromise(
    Effect.flatMap(SqliteClient.SqliteClient, (sql) => sql<{ id: string }>`SELECT id FROM events WHERE created_at >= ${since} ORDER BY seq`).pipe(
      Effect.map((rows) => rows.map((r) => r.id)),
      Effect.provide(SqliteClient.layer({ filename: database, readonly: true }))
    )
  )

/** Every delivery row, oldest first, read from the SQLite file. */
const deliveries = (database: string) =>
  Effect.runPromise(
    Effect.flatMap(SqliteClient.SqliteClient, (sql) => sql<{ state: string; attempts: number; lease_token: string | null }>`SELECT state, attempts, lease_token FROM webhook_deliveries ORDER BY seq`).pipe(
      Effect.map((rows) => rows.map((r) => ({ state: r.state, attempts: Number(r.attempts), lease: r.lease_token }))),
      Effect.provide(SqliteClient.layer({ filename: database, readonly: true }))
    )
  )

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const tempDb = () => path.join(mkdtempSync(path.join(tmpdir(), "acct-wh-proc-")), "acct.db")

describe("webhooks across SIGKILL (SQLite)", () => {
  it("delivers events committed while no dispatcher ran, and after a kill between commit and delivery", { timeout: 90_000 }, async () => {
    const receiver = await startReceiver()
    const database = tempDb()
    // First life: the dispatcher is off, so commits are certainly not delivered yet.
    let server = await start(database, { ACCT_WEBHOOK_DISPATCH: "false" })
    const hook = await webhookTo(server, receiver.url)
    const since = new Date().toISOString()
    const accounts = await accountIds(server)
    for (const [i, id] of accounts.entries()) expect((await call(server, "POST", `/api/v1/accounts/${id}/add-tag`, { meta: { "tag-name": `k${i}` } })).status).toBe(200)
    const committed = await eventIds(database, since)
    expect(committed.length).toBe(accounts.length * 2)
    await kill(server)
    // Second life: the dispatcher delivers everything committed before the kill.
    server = await start(database)
    const got = await receiver.until((all) => new Set(all.map((r) => r.headers["webhook-id"])).size >= committed.length)
    expect(new Set(got.map((r) => r.headers["webhook-id"]))).toEqual(new Set(committed))
    expect(got.length).toBe(committed.length)
    for (const r of got) {
      expect(standardWebhookValid(r.headers, hook.secret, r.body)).toBe(true)
      expect(personaSignatureValid(r.headers["persona-signature"], hook.secret, r.body)).toBe(true)
    }
    // Kill right after commits, with the dispatcher on: whatever was in flight may come twice.
    const before = receiver.received.length
    const since2 = new Date().toISOString()
    await Promise.all(accounts.map((id, i) => call(server, "POST", `/api/v1/accounts/${id}/add-tag`, { meta: { "tag-name": `m${i}` } })))
    const committed2 = await eventIds(database, since2)
    await kill(server)
    server = await start(database)
    await receiver.until((all) => committed2.every((id) => all.slice(before).some((r) => r.headers["webhook-id"] === id)))
    await kill(server)
    await receiver.close()
  })

  it("sends again, with the same webhook-id and after one short lease, what was in flight when the server was killed", { timeout: 90_000 }, async () => {
    let hang = true
    const receiver = await startReceiver((): Behaviour => (hang ? "hang" : { status: 200 }))
    const database = tempDb()
    // Both events are on the wire, unanswered: kill the server mid-delivery.
    let server = await tagWhileDelivering(database, receiver, "inflight")
    const inFlight = receiver.received.map((r) => r.headers["webhook-id"])
    await kill(server)
    hang = false
    // The default lease (10 s, renewed while an attempt runs): the killed server's claims are
    // free again well within the receiver's 20 s wait (they used to wait 60 s).
    server = await start(database)
    await receiver.until((all) => all.length >= 4)
    const again = receiver.received.slice(2).map((r) => r.headers["webhook-id"])
    expect(new Set(again)).toEqual(new Set(inFlight))
    expect(receiver.received.slice(2).every((r) => r.headers["persona-webhook-attempts-made"] === "1")).toBe(true)
    await kill(server)
    await receiver.close()
  })
})

describe("webhooks across SIGTERM (SQLite)", () => {
  it("lets the attempts in flight finish: they are recorded, and not sent again after the restart", { timeout: 90_000 }, async () => {
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 1500 }))
    const database = tempDb()
    // Both events are on the wire, their answers 1.5 s away: stop the server now.
    let server = await tagWhileDelivering(database, receiver, "term", { ACCT_SHUTDOWN_READINESS_DELAY_SECONDS: "0", ACCT_WEBHOOK_LEASE_MS: "1500" })
    await terminate(server)
    expect(await deliveries(database)).toEqual([
      { state: "delivered", attempts: 1, lease: null },
      { state: "delivered", attempts: 1, lease: null }
    ])
    server = await start(database, { ACCT_WEBHOOK_LEASE_MS: "1500" })
    // Longer than a lease: an unrecorded attempt would have come again by now.
    await sleep(2500)
    expect(receiver.received).toHaveLength(2)
    await kill(server)
    await receiver.close()
  })

  it("exits within the grace period: an attempt still unanswered is abandoned and its lease given back", { timeout: 90_000 }, async () => {
    let hang = true
    const receiver = await startReceiver((): Behaviour => (hang ? "hang" : { status: 200 }))
    const database = tempDb()
    // A lease far longer than the test: only a given-back lease lets the restart send at once.
    const env = { ACCT_SHUTDOWN_READINESS_DELAY_SECONDS: "0", ACCT_SHUTDOWN_GRACE_SECONDS: "2", ACCT_WEBHOOK_LEASE_MS: "600000" }
    let server = await tagWhileDelivering(database, receiver, "abandoned", env)
    const tookMs = await terminate(server)
    expect(tookMs).toBeLessThan(2000 + 1500)
    expect(await deliveries(database)).toEqual([
      { state: "pending", attempts: 0, lease: null },
      { state: "pending", attempts: 0, lease: null }
    ])
    hang = false
    server = await start(database, env)
    await receiver.until((all) => all.length >= 4)
    expect(new Set(receiver.received.slice(2).map((r) => r.headers["webhook-id"]))).toEqual(new Set(receiver.received.slice(0, 2).map((r) => r.headers["webhook-id"])))
    await kill(server)
    await receiver.close()
  })
})

describe.runIf(postgresReachable)("webhooks with replicas on one Postgres", () => {
  for (const count of [2, 3]) {
    it(`${count} replicas share 1,000 events: each delivered once`, { timeout: 180_000 }, async () => {
      const receiver = await startReceiver()
      const database = await freshDatabase(`acct_wh_${count}`)
      try {
        const replicas = await Promise.all(Array.from({ length: count }, () => start(database.url)))
        await webhookTo(replicas[0]!, receiver.url)
        const accounts = await accountIds(replicas[0]!)
        // 500 tag changes, two events each, spread over the replicas.
        let next = 0
        const worker = async (w: number) => {
          while (next < 500) {
            const op = next++
            const r = await call(replicas[(op + w) % count]!, "POST", `/api/v1/accounts/${accounts[op % accounts.length]}/add-tag`, { meta: { "tag-name": `r${op}` } })
            expect(r.status).toBe(200)
          }
        }
        await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)))
        const committed = await onDatabase(database.url, (sql) => sql<{ id: string }>`SELECT id FROM events WHERE name IN ('account.tag-added', 'account.updated-tags')`.pipe(Effect.map((rows) => rows.map((r) => r.id))))
        expect(committed).toHaveLength(1000)
        await receiver.until((all) => new Set(all.map((r) => r.headers["webhook-id"])).size >= 1000, 120_000)
        const ids = receiver.received.map((r) => r.headers["webhook-id"]).filter((id) => committed.includes(id!))
        expect(new Set(ids)).toEqual(new Set(committed))
        // No kill, no duplicate.
        expect(ids).toHaveLength(1000)
        for (const replica of replicas) await kill(replica)
      } finally {
        await receiver.close()
        await database.drop()
      }
    })
  }
})
