/**
 * The access log: one JSON line per request with what operators need (method, path, status,
 * duration, request id, principal) and nothing a log must not hold (keys, bodies, personal
 * data); and the batched writer behind it.
 */
import { Logger } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { batchedWriter, formatLine } from "../src/log.js"
import { startServer } from "./harness.js"

describe("access log", () => {
  const lines: Array<Record<string, unknown>> = []
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => void (server = await startServer({ logger: Logger.make((options) => void lines.push(JSON.parse(formatLine(options)))) })))
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
