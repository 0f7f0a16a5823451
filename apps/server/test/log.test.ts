/**
 * The access log: one JSON line per request with what operators need (method, path, status,
 * duration, request id, principal) and nothing a log must not hold (keys, bodies, personal
 * data); and the batched writer behind it.
 */
import { InvalidRequest } from "@acct/core"
import { HttpServer, HttpServerRequest } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, FiberId, Layer, Logger, ManagedRuntime } from "effect"
import { createServer } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { InFlight } from "../src/drain.js"
import { edge, shapeAnswers } from "../src/edge.js"
import { AccessLog, accessLine, batchedWriter, formatLine } from "../src/log.js"
import { boundedMemoryStore, KnownKeys, RateLimitCounters } from "../src/rate-limit.js"
import { startServer } from "./harness.js"

describe("access log", () => {
  const lines: Array<Record<string, unknown>> = []
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => void (server = await startServer({ logLines: (line) => void lines.push(line) })))
  afterAll(() => server.close())

  const requestLines = () => lines.filter((l) => l.message === "request")

  it("writes one line per request with method, path, status, duration, request id and principal", async () => {
    const response = await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")
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
    const types = (await server.call("GET", "/api/v1/account-types")).json as { data: Array<{ id: string; attributes: { name: string } }> }
    const typeId = types.data.find((t) => t.attributes.name === "User")!.id
    const before = lines.length
    const created = await server.call("POST", "/api/v1/accounts", {
      body: { data: { attributes: { "account-type-id": typeId, "reference-id": "log-test-1", fields: { email_address: "secret.person@example.com" } } } }
    })
    await server.call("GET", "/api/v1/accounts/act_doesnotexist", { key: "acct_not_a_real_key_1234567890" })
    const written = JSON.stringify(lines.slice(before))
    expect(lines.length).toBeGreaterThan(before)
    expect(created.status).toBe(201)
    for (const leak of [server.admin, "acct_not_a_real_key", "secret.person@example.com", "log-test-1", "reference-id"]) expect(written).not.toContain(leak)
    expect(requestLines().at(-1)).toMatchObject({ annotations: { status: 401, principal: null } })
  })
})

describe("the line of a request that failed", () => {
  const lines: Array<Record<string, unknown>> = []
  // Behind the service's edge: handlers that fail the way code does when it quotes its input —
  // a defect whose message holds the body, a JSON parser's excerpt of it, an error carrying it.
  const failing = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const body = yield* request.text
    if (request.url === "/defect") return yield* Effect.die(new Error(`cannot store ${body} (SQLITE_FULL)`))
    if (request.url === "/parse") return yield* Effect.sync(() => JSON.parse(`{${body}`))
    return yield* new InvalidRequest({ message: `unexpected ${body}` })
  }).pipe(Effect.orDie)
  const runtime = ManagedRuntime.make(
    shapeAnswers(HttpServer.serve(edge({ maxBodyBytes: 1 << 16, maxImportBytes: 1 << 16, rateLimit: 1000 })(failing))).pipe(
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
      Layer.provide(boundedMemoryStore.pipe(Layer.provide(RateLimitCounters.layer))),
      Layer.provide([KnownKeys.layer, InFlight.layer, AccessLog.lines((line) => void lines.push(JSON.parse(line)))]),
      Layer.provide(Logger.replace(Logger.defaultLogger, Logger.make((options) => void lines.push(JSON.parse(formatLine(options))))))
    )
  )
  afterAll(() => runtime.dispose())

  it("names the error, its code and where it was thrown, never the values the request carried", async () => {
    const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
    const base = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
    const personal = '"email_address":"secret.person@example.com","name":"Jane Q Private"'
    for (const path of ["/defect", "/parse", "/failure"]) {
      const response = await fetch(`${base}${path}`, { method: "POST", body: personal })
      expect(response.status).toBe(500)
      const requestId = response.headers.get("request-id")
      const line = lines.find((l) => Array.isArray(l.message) && l.message[0] === "request failed" && (l.annotations as { requestId?: unknown }).requestId === requestId)
      expect(line, path).toMatchObject({ logLevel: "ERROR", annotations: { status: 500, path } })
      const said = (line!.message as Array<string>)[1]!
      expect(said).toMatch({ "/defect": /^defect Error \[SQLITE_FULL\] at \S+log\.test\.ts:\d+:\d+/, "/parse": /^defect SyntaxError at /, "/failure": /^defect InvalidRequest/ }[path]!)
    }
    for (const leak of ["secret.person", "Jane Q Private", "cannot store", "unexpected"]) expect(JSON.stringify(lines)).not.toContain(leak)
  })
})

describe("accessLine", () => {
  it("is the line the logger writes for logInfo(\"request\") and logError(\"request failed\", …) with the same annotations", () => {
    const entry = { method: "GET", path: "/api/v1/accounts/x", status: 200, durationMs: 1.5, requestId: "req_1", principal: null }
    const viaLogger = (log: Effect.Effect<void>) => {
      const written: Array<string> = []
      Effect.runSync(log.pipe(Effect.annotateLogs(entry), Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make((options) => void written.push(formatLine(options)))))))
      return JSON.parse(written[0]!) as Record<string, unknown>
    }
    const direct = (failure?: string) => JSON.parse(accessLine({ ...entry, ...(failure !== undefined ? { failure } : {}) }, FiberId.make(7, 0), new Date())) as Record<string, unknown>
    const comparable = ({ timestamp, fiberId, ...rest }: Record<string, unknown>) => ({ ...rest, timestamp: typeof timestamp, fiberId: typeof fiberId })
    expect(comparable(direct())).toEqual(comparable(viaLogger(Effect.logInfo("request"))))
    expect(comparable(direct("defect Error"))).toEqual(comparable(viaLogger(Effect.logError("request failed", "defect Error"))))
  })
})

describe("accessLine, written out", () => {
  it("is JSON whatever the path, principal or failure hold, and says them exactly", () => {
    const entry = { method: "GET", path: '/a"b\\c\n\u2028é\u0000', status: 404, durationMs: 0.1, requestId: "req_x", principal: null }
    const line = accessLine({ ...entry, failure: 'Error "x"\ttab' }, FiberId.make(7, 0), new Date(0))
    expect(line).not.toContain("\n")
    expect(JSON.parse(line)).toEqual({
      message: ["request failed", 'Error "x"\ttab'],
      logLevel: "ERROR",
      timestamp: "1970-01-01T00:00:00.000Z",
      annotations: entry,
      spans: {},
      fiberId: "#7"
    })
  })
})

describe("batchedWriter", () => {
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

  it("writes the lines of one delay in one write, in order", async () => {
    const writes: Array<string> = []
    const write = batchedWriter((text) => writes.push(text), (text) => writes.push(text), { maxDelayMs: 10 })
    write("a\n")
    write("b\n")
    await new Promise((resolve) => setImmediate(resolve))
    expect(writes).toEqual([])
    await pause(30)
    write("c\n")
    await pause(30)
    expect(writes).toEqual(["a\nb\n", "c\n"])
  })

  it("writes at once when the batch reaches its size", () => {
    const writes: Array<string> = []
    const write = batchedWriter((text) => writes.push(text), (text) => writes.push(text), { maxBytes: 4, maxDelayMs: 10_000 })
    write("ab\n")
    expect(writes).toEqual([])
    write("cd\n")
    expect(writes).toEqual(["ab\ncd\n"])
  })
})
