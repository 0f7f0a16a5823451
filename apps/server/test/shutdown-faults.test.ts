/**
 * SIGTERM whatever the clients are doing. It used to leave a request sent on an open keep-alive
 * connection just after the signal unanswered, with the process still running 400 s later (a
 * half-sent request the same). Now: /readyz is 503 at once while everything else is still served
 * for the readiness delay; then a new request on an open connection is 503 with
 * `Connection: close`; the request in flight finishes; idle and half-sent connections are closed;
 * and the process exits within the grace period.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { connect, type Socket } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

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
