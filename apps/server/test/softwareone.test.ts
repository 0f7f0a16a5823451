import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer, validateSoftwareOne } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const base = "/v1/accounts/accounts"

const account = async (method: string, url: string, status: number, options: Parameters<typeof server.call>[2] = {}) => {
  const r = await server.call(method, url, options)
  expect(r.status, r.text).toBe(status)
  expect(validateSoftwareOne(status < 300 ? "AccountQueryModel" : "ProblemDetails", r.json)).toBeNull()
  if (status >= 400) {
    expect(r.headers.get("content-type")).toContain("application/problem+json")
    expect(r.json).toMatchObject({ status, traceId: r.headers.get("request-id") })
  }
  return r.json
}

describe("SoftwareOne-compatible surface (validated against SoftwareOne's OpenAPI schemas)", () => {
  it("lists accounts", async () => {
    const r = await server.call("GET", `${base}?limit=3&offset=1`)
    expect(r.status).toBe(200)
    expect(validateSoftwareOne("AccountQueryModelListResponse", r.json)).toBeNull()
    expect(r.json.data).toHaveLength(3)
    expect(r.json.$meta.pagination).toEqual({ offset: 1, limit: 3 })
    const all = (await server.call("GET", `${base}?limit=100`)).json.data
    expect(r.json.data.map((a: { id: string }) => a.id)).toEqual(all.slice(1, 4).map((a: { id: string }) => a.id))
  })

  it("gets an account by id or external id", async () => {
    const byExternal = await account("GET", `${base}/abc-123`, 200)
    expect(byExternal).toMatchObject({ name: "Jane Marie Doe", externalId: "abc-123", type: "Client", status: "Enabled" })
    expect(await account("GET", `${base}/${byExternal.id}`, 200)).toEqual(byExternal)
  })

  it("walks the lifecycle with an external id: every transition, and refusals that say why", async () => {
    const wei = "ghi-789" // Disabled, has an external id
    expect((await account("POST", `${base}/${wei}/enable`, 200)).status).toBe("Active")
    const refused = await account("POST", `${base}/${wei}/activate`, 400)
    expect(refused.detail).toContain("it is Active; activate applies to Enabled accounts")
    expect((await account("POST", `${base}/${wei}/deactivate`, 200)).status).toBe("Enabled")
    expect((await account("POST", `${base}/${wei}/activate`, 200)).status).toBe("Active")
    expect((await account("POST", `${base}/${wei}/disable`, 200)).status).toBe("Disabled")
    expect((await account("POST", `${base}/${wei}/disable`, 400)).detail).toContain("it is Disabled")
  })

  it("walks the lifecycle without an external id", async () => {
    const maria = (await server.call("GET", "/api/v1/accounts?filter%5Btag%5D=trial")).json.data[0].id
    expect((await account("POST", `${base}/${maria}/activate`, 400)).detail).toContain("it has no external (reference) id")
    expect((await account("POST", `${base}/${maria}/disable`, 200)).status).toBe("Disabled")
    expect((await account("POST", `${base}/${maria}/enable`, 200)).status).toBe("Enabled")
  })

  it("answers problems for unknown accounts, missing keys, missing scopes and bad input", async () => {
    expect((await account("GET", `${base}/act_000000000000000000000000`, 404)).detail).toContain("not found")
    expect((await account("POST", `${base}/nope-nope/enable`, 404)).title).toBe("Not Found")
    expect((await account("GET", `${base}/abc-123`, 401, { key: null })).detail).toBe("Must be authenticated to access this endpoint")
    const reader = (await server.key(["account.read"])).secret
    expect((await account("POST", `${base}/abc-123/disable`, 403, { key: reader })).detail).toContain("missing scope account.action")
    expect((await account("GET", `${base}?limit=0`, 400)).detail).toContain("limit must be an integer from 1 to 100")
    expect((await account("POST", `${base}/abc-123/enable`, 400, { raw: "{", headers: { "content-type": "application/json" } })).title).toBe("Bad Request")
    expect((await account("GET", "/v1/accounts/accounts/abc-123/teleport", 404)).detail).toContain("no route")
  })

  it("serves the same surface under /public/v1/accounts/accounts, SoftwareOne's current prefix", async () => {
    const publicBase = "/public/v1/accounts/accounts"
    const list = await server.call("GET", `${publicBase}?limit=2`)
    expect(list.status).toBe(200)
    expect(validateSoftwareOne("AccountQueryModelListResponse", list.json)).toBeNull()
    expect(await account("GET", `${publicBase}/abc-123`, 200)).toEqual(await account("GET", `${base}/abc-123`, 200))
    expect((await account("POST", `${publicBase}/def-456/enable`, 400)).detail).toContain("it is Active")
    expect((await account("GET", `${publicBase}/abc-123`, 401, { key: null })).detail).toBe("Must be authenticated to access this endpoint")
    expect((await account("GET", `${publicBase}/abc-123/teleport`, 404)).detail).toContain("no route")
    const openapi = (await server.call("GET", "/openapi.json", { key: null })).json
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining([publicBase, `${publicBase}/{id}`, `${publicBase}/{id}/enable`]))
  })

  it("answers Node's own refusals (431, malformed HTTP) on SoftwareOne paths as problem details with a traceId", async () => {
    const { connect } = await import("node:net")
    const { answerClientErrors } = await import("../src/client-errors.js")
    const { createServer } = await import("node:http")
    const node = answerClientErrors(createServer(() => undefined))
    await new Promise<void>((resolve) => node.listen(0, "127.0.0.1", () => resolve()))
    const port = (node.address() as { port: number }).port
    const raw = (bytes: string) =>
      new Promise<{ head: string; body: unknown }>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => socket.write(bytes))
        let answer = ""
        socket.on("data", (chunk) => (answer += chunk)).on("end", () => {
          const [head, body] = answer.split("\r\n\r\n")
          resolve({ head: head!, body: body ? JSON.parse(body) : undefined })
        }).on("error", reject)
      })
    try {
      for (const path of [`${base}/abc-123`, `/public${base}`]) {
        const big = await raw(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`)
        expect(big.head.split("\r\n")[0]).toBe("HTTP/1.1 431 Request Header Fields Too Large")
        expect(big.head).toContain("Content-Type: application/problem+json")
        const traceId = /\r\nRequest-Id: (req_[A-Za-z0-9]{24})\r\n/.exec(big.head)?.[1]
        expect(big.body).toEqual({ type: "https://httpstatuses.io/431", title: "Request Header Fields Too Large", status: 431, detail: "the request line and headers together exceed 16 KB", traceId })
        expect(validateSoftwareOne("ProblemDetails", big.body)).toBeNull()
        const malformed = await raw(`POST ${path}/enable HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`)
        expect(malformed.head.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request")
        expect(malformed.body).toMatchObject({ status: 400, title: "Bad Request", traceId: expect.stringMatching(/^req_/) })
      }
      // Persona's paths keep Persona's format.
      expect((await raw(`GET /api/v1/accounts HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`)).body).toEqual({
        errors: [{ title: "Request Header Fields Too Large", details: "the request line and headers together exceed 16 KB" }]
      })
    } finally {
      await new Promise<void>((resolve) => node.close(() => resolve()))
    }
  })
})
