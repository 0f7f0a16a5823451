/**
 * The access log: one JSON line per request with what operators need (method, path, status,
 * duration, request id, principal) and nothing a log must not hold (keys, bodies, personal
 * data); and the batched writer behind it.
 */
import { ApiKeys } from "@acct/core"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Logger, ManagedRuntime, Option } from "effect"
import { mkdtempSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { appLayer } from "../src/app.js"
import { batchedWriter, formatLine } from "../src/log.js"

describe("access log", () => {
  const lines: Array<Record<string, unknown>> = []
  let runtime: ManagedRuntime.ManagedRuntime<HttpServer.HttpServer | ApiKeys, unknown>
  let base = ""
  let secret = ""

  beforeAll(async () => {
    const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-log-")), "acct.db")
    const app = appLayer({ port: 0, host: "127.0.0.1", profile: Option.none(), database, bootstrapKey: Option.none(), seedDemo: true, maxBodyBytes: 64 * 1024, rateLimit: 10_000, idempotencyStaleSeconds: 30, dbPoolSize: 10, dbStatementTimeoutMs: 5000 })
    runtime = ManagedRuntime.make(
      app.pipe(
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
        Layer.provideMerge(Logger.replace(Logger.defaultLogger, Logger.make((options) => void lines.push(JSON.parse(formatLine(options))))))
      )
    )
    const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
    if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
    base = `http://127.0.0.1:${address.port}`
    secret = (await runtime.runPromise(Effect.flatMap(ApiKeys, (k) => k.create({ name: "log test", scopes: ["admin"] })))).secret
  })
  afterAll(() => runtime.dispose())

  const requestLines = () => lines.filter((l) => l.message === "request")

  it("writes one line per request with method, path, status, duration, request id and principal", async () => {
    const response = await fetch(`${base}/api/v1/accounts?filter%5Breference-id%5D=abc-123`, { headers: { authorization: `Bearer ${secret}` } })
    expect(response.status).toBe(200)
    const requestId = response.headers.get("request-id")
    const line = requestLines().find((l) => (l.annotations as Record<string, unknown>).requestId === requestId)
    expect(line).toMatchObject({
      logLevel: "INFO",
      annotations: { method: "GET", path: "/api/v1/accounts", status: 200, requestId, principal: expect.stringMatching(/^api-key:key_/) }
    })
    expect(typeof (line!.annotations as { durationMs: unknown }).durationMs).toBe("number")
    expect(Date.parse(line!.timestamp as string)).not.toBeNaN()
  })

  it("never logs the key, the query, the body or personal data", async () => {
    const types = (await (await fetch(`${base}/api/v1/account-types`, { headers: { authorization: `Bearer ${secret}` } })).json()) as { data: Array<{ id: string; attributes: { name: string } }> }
    const typeId = types.data.find((t) => t.attributes.name === "User")!.id
    const before = lines.length
    const created = await fetch(`${base}/api/v1/accounts`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify({ data: { attributes: { "account-type-id": typeId, "reference-id": "log-test-1", fields: { email_address: "secret.person@example.com" } } } })
    })
    await fetch(`${base}/api/v1/accounts/act_doesnotexist`, { headers: { authorization: "Bearer acct_not_a_real_key_1234567890" } })
    const written = JSON.stringify(lines.slice(before))
    expect(lines.length).toBeGreaterThan(before)
    expect(created.status).toBe(201)
    for (const leak of [secret, "acct_not_a_real_key", "secret.person@example.com", "log-test-1", "reference-id"]) expect(written).not.toContain(leak)
    expect(requestLines().at(-1)).toMatchObject({ annotations: { status: 401, principal: null } })
  })
})

describe("batchedWriter", () => {
  it("writes the lines of one event-loop turn in one write, in order", async () => {
    const writes: Array<string> = []
    const write = batchedWriter((text) => writes.push(text), (text) => writes.push(text))
    write("a\n")
    write("b\n")
    expect(writes).toEqual([])
    await new Promise((resolve) => setImmediate(resolve))
    write("c\n")
    await new Promise((resolve) => setImmediate(resolve))
    expect(writes).toEqual(["a\nb\n", "c\n"])
  })
})
