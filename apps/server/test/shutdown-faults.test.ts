/**
 * SIGTERM whatever the clients are doing. It used to leave a request sent on an open keep-alive
 * connection just after the signal unanswered, with the process still running 400 s later (a
 * half-sent request the same). Now: /readyz is 503 at once while everything else is still served
 * for the readiness delay; then a new request on an open connection is 503 with
 * `Connection: close`; the request in flight finishes; idle and half-sent connections are closed;
 * and the process exits within the grace period. On Postgres under load it used to serve new
 * requests for the whole grace, never reach zero in flight, cut committed requests (ECONNRESET)
 * and exit after 25 s.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { Agent, request } from "node:http"
import { connect, type Socket } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { freshDatabase, onDatabase, postgresReachable } from "./postgres.js"

const SERVER = fileURLToPath(new URL("../dist/server.mjs", import.meta.url))
const KEY = "acct_shutdown_faults_key_0000000000000"

const startBuilt = async (env: Record<string, string>) => {
  const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-sigterm-")), "acct.db")
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: "0", ACCT_DATABASE: database, ACCT_BOOTSTRAP_KEY: KEY, ...env }, stdio: ["ignore", "pipe", "pipe"] })
  let log = ""
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      log += chunk
      const found = /Listening on http:\/\/[\d.]+:(\d+)/.exec(log)
      if (found) resolve(Number(found[1]))
    })
    setTimeout(() => reject(new Error(`no start: ${log}`)), 15_000)
  })
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once("exit", (code) => resolve({ code, at: Date.now() })))
  return { child: child as ChildProcess, port, exited, log: () => log }
}

/** A keep-alive connection that sends raw requests and reads whole responses, in order. */
const connection = (port: number) =>
  new Promise<{ socket: Socket; send: (raw: string) => Promise<{ status: number; head: string }>; next: () => Promise<{ status: number; head: string }>; closed: Promise<void> }>((resolve) => {
    const socket = connect(port, "127.0.0.1")
    // One character per byte, so lengths compare with Content-Length.
    socket.setEncoding("latin1")
    let buffer = ""
    const waiting: Array<(r: { status: number; head: string }) => void> = []
    const closed = new Promise<void>((r) => socket.once("close", () => r()))
    socket.on("error", () => undefined)
    const deliver = () => {
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n")
        if (end < 0 || waiting.length === 0) return
        const head = buffer.slice(0, end)
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0)
        if (buffer.length < end + 4 + length) return
        buffer = buffer.slice(end + 4 + length)
        waiting.shift()!({ status: Number(head.split(" ")[1]), head })
      }
    }
    socket.on("data", (chunk) => {
      buffer += chunk
      deliver()
    })
    const next = () =>
      new Promise<{ status: number; head: string }>((r) => {
        waiting.push(r)
        deliver()
      })
    socket.once("connect", () => resolve({ socket, closed, next, send: (raw) => (socket.write(raw), next()) }))
  })

const get = (url: string) => `GET ${url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n\r\n`

describe("SIGTERM with clients in every state (the built server as a subprocess)", () => {
  it("turns unready, serves through the delay, refuses with Connection: close after it, closes what is left, exits in time", async () => {
    const server = await startBuilt({ ACCT_SHUTDOWN_READINESS_DELAY_SECONDS: "1", ACCT_SHUTDOWN_GRACE_SECONDS: "4" })
    const idle = await connection(server.port)
    expect((await idle.send(get("/healthz"))).status).toBe(200)
    const later = await connection(server.port)
    expect((await later.send(get("/healthz"))).status).toBe(200) // then idle
    // Half a request line and headers, never finished.
    const partial = await connection(server.port)
    partial.socket.write("GET /api/v1/accounts HTTP/1.1\r\nHost: x\r\nAuthor")
    // A request in flight: its body arrives 1.5 s after the signal.
    const inFlight = await connection(server.port)
    const body = JSON.stringify({ meta: { "tag-name": "drained" } })
    const inFlightAnswer = inFlight.send(`POST /api/v1/accounts/act_000000000000000000000000/add-tag HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`)
    await new Promise((r) => setTimeout(r, 100))

    const signalled = Date.now()
    server.child.kill("SIGTERM")
    await new Promise((r) => setTimeout(r, 5))
    // Just after the signal, on an open connection: still served, and /readyz already says no.
    expect((await idle.send(get("/healthz"))).status).toBe(200)
    // /readyz turns 503 as soon as the runtime acts on the signal, well within the delay…
    let unreadyAfter = -1
    while (unreadyAfter < 0 && Date.now() - signalled < 800) {
      if ((await idle.send(get("/readyz"))).status === 503) unreadyAfter = Date.now() - signalled
    }
    expect(unreadyAfter).toBeGreaterThanOrEqual(0)
    // …while the rest is still served.
    expect((await idle.send(get("/api/v1/accounts"))).status).toBe(200)
    // The rest of the in-flight body after the delay, and another request right behind it.
    setTimeout(() => inFlight.socket.write(body.slice(5) + get("/api/v1/accounts")), 1500)

    // When the delay is over the listener closes, and the idle connections with it.
    await later.closed
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(900)
    expect((await inFlightAnswer).status).toBe(404) // answered (no such account), not cut off
    // The request that came after it, on the open connection: refused, and the connection closed.
    const refused = await inFlight.next()
    expect(refused.status).toBe(503)
    expect(refused.head).toMatch(/\r\nconnection: close/i)
    await Promise.all([inFlight.closed, idle.closed, partial.closed])
    const { code, at } = await server.exited
    expect(code).toBe(0)
    expect(at - signalled, "exited within the 4 s grace (+1 s to stop)").toBeLessThan(5000)
  }, 30_000)

  it("exits within the grace period even when a client never finishes its request", async () => {
    const server = await startBuilt({ ACCT_SHUTDOWN_READINESS_DELAY_SECONDS: "0", ACCT_SHUTDOWN_GRACE_SECONDS: "2" })
    const stuck = await connection(server.port)
    void stuck.send(`POST /api/v1/accounts/act_000000000000000000000000/add-tag HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"me`)
    await new Promise((r) => setTimeout(r, 200))
    const signalled = Date.now()
    server.child.kill("SIGTERM")
    const { code, at } = await server.exited
    expect(code).toBe(0)
    expect(at - signalled, "exited within the 2 s grace (+1 s to stop)").toBeLessThan(3000)
    expect(server.log()).toContain("grace period over")
  }, 30_000)
})

/** One HTTP exchange's outcome, as a load client saw it. */
interface Outcome {
  readonly key: string
  readonly sentAt: number
  readonly status?: number
  readonly connectionClose?: boolean
  readonly error?: string
}

const send = (agent: Agent | false, port: number, method: string, path: string, headers: Record<string, string>, body?: string) =>
  new Promise<{ status: number; connectionClose: boolean }>((resolve, reject) => {
    const req = request({ agent, host: "127.0.0.1", port, method, path, headers: { authorization: `Bearer ${KEY}`, ...(body ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      res.resume().on("end", () => resolve({ status: res.statusCode ?? 0, connectionClose: /close/i.test(String(res.headers.connection ?? "")) }))
    })
    req.on("error", reject)
    req.end(body)
  })

describe.runIf(postgresReachable)("SIGTERM under load on Postgres (the built server as a subprocess)", () => {
  it("turns unready first, refuses new requests with Connection: close after the delay, answers every committed change, exits within the grace", async () => {
    const database = await freshDatabase("acct_sigterm_load")
    try {
      const server = await startBuilt({ ACCT_DATABASE: database.url, ACCT_RATE_LIMIT: "1000000", ACCT_SHUTDOWN_READINESS_DELAY_SECONDS: "1", ACCT_SHUTDOWN_GRACE_SECONDS: "6" })
      const json = async (path: string) => {
        const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { authorization: `Bearer ${KEY}` } })
        return (await response.json()) as { data: Array<{ id: string; attributes: { name: string } }> }
      }
      const jane = (await json("/api/v1/accounts?filter%5Breference-id%5D=abc-123")).data[0]!.id
      const action = (await json("/api/v1/account-actions")).data.find((a) => a.attributes.name === "Set status")!.id
      const body = JSON.stringify({ data: { "account-action-id": action, parameters: { status: "activated" } } })

      // 24 clients: 16 on keep-alive connections, 8 opening a connection per request. Each sends
      // writes (run-action, every one with its own Idempotency-Key: the record says whether it
      // was committed) and reads, back to back, until the server stops answering.
      const outcomes: Array<Outcome> = []
      const keepAlive = new Agent({ keepAlive: true, maxSockets: 16 })
      let stopped = false
      const client = async (id: number) => {
        const agent = id < 16 ? keepAlive : false
        for (let n = 0; !stopped; n++) {
          const key = `sigterm-load-${id}-${n}`
          const sentAt = Date.now()
          const write = n % 2 === 0
          try {
            const answer = write
              ? await send(agent, server.port, "POST", `/api/v1/accounts/${jane}/run-action`, { "idempotency-key": key }, body)
              : await send(agent, server.port, "GET", `/api/v1/accounts/${jane}`, {})
            outcomes.push({ key: write ? key : "", sentAt, status: answer.status, connectionClose: answer.connectionClose })
          } catch (error) {
            outcomes.push({ key: write ? key : "", sentAt, error: (error as NodeJS.ErrnoException).code ?? String(error) })
            // Refused at connect: the listener is closed, nothing more to send.
            if ((error as NodeJS.ErrnoException).code === "ECONNREFUSED") return
          }
        }
      }
      const clients = Promise.all(Array.from({ length: 24 }, (_, id) => client(id)))
      // A load balancer's probe, on a connection of its own.
      const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 })
      // Until every client has had a couple of answers (this machine may be slow).
      for (const started = Date.now(); outcomes.length < 48 && Date.now() - started < 20_000; ) await new Promise((r) => setTimeout(r, 50))
      const summary = () => JSON.stringify(outcomes.reduce<Record<string, number>>((counts, o) => ({ ...counts, [String(o.status ?? o.error)]: (counts[String(o.status ?? o.error)] ?? 0) + 1 }), {}))
      expect(outcomes.filter((o) => o.status === 200).length, `served under load before the signal: ${summary()}`).toBeGreaterThanOrEqual(48)

      const signalled = Date.now()
      server.child.kill("SIGTERM")
      let unreadyAfter = -1
      while (unreadyAfter < 0 && Date.now() - signalled < 900) {
        const probe = await send(probeAgent, server.port, "GET", "/readyz", {}).catch(() => undefined)
        if (probe?.status === 503) unreadyAfter = Date.now() - signalled
      }
      const { code, at } = await server.exited
      stopped = true
      await clients
      keepAlive.destroy()
      probeAgent.destroy()

      // /readyz said 503 first, while requests were still served (the readiness delay)…
      expect(unreadyAfter, "/readyz turned 503 within the delay").toBeGreaterThanOrEqual(0)
      const servedAfterUnready = outcomes.filter((o) => o.status === 200 && o.sentAt > signalled + unreadyAfter)
      expect(servedAfterUnready.length, "still served during the readiness delay").toBeGreaterThan(0)
      // …then new requests on open connections were refused, saying to close the connection…
      const refused = outcomes.filter((o) => o.status === 503)
      expect(refused.length, "new requests refused after the delay").toBeGreaterThan(0)
      expect(refused.every((o) => o.connectionClose)).toBe(true)
      // …and nothing sent well after the delay was served as if the server were not stopping.
      expect(outcomes.filter((o) => o.status === 200 && o.sentAt > signalled + 1000 + 500)).toEqual([])
      expect(outcomes.every((o) => o.status === undefined || o.status === 200 || o.status === 503), JSON.stringify(outcomes.filter((o) => o.status !== undefined && o.status !== 200 && o.status !== 503).slice(0, 3))).toBe(true)

      // Every change the database committed was answered 200: none cut off.
      const committed = new Set((await onDatabase(database.url, (sql) => sql<{ idempotency_key: string }>`SELECT idempotency_key FROM idempotency_keys`)).map((r) => r.idempotency_key))
      const writes = outcomes.filter((o) => o.key !== "")
      const cut = writes.filter((o) => committed.has(o.key) && o.status !== 200)
      expect(cut, "committed but not answered 200").toEqual([])
      expect(writes.filter((o) => o.status === 200 && !committed.has(o.key)), "answered 200 but not committed").toEqual([])
      expect(committed.size).toBeGreaterThan(10)

      // The drain finished by itself (in flight reached zero), within the 6 s grace.
      expect(code).toBe(0)
      expect(at - signalled, "exited within the 6 s grace").toBeLessThan(6000)
      expect(server.log()).not.toContain("grace period over")
    } finally {
      await database.drop()
    }
  }, 90_000)
})
