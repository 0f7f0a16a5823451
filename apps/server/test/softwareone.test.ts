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
})
