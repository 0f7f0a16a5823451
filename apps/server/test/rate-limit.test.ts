import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer, validatePersona } from "./harness.js"
import { freshDatabase, postgresReachable } from "./postgres.js"

let server: Awaited<ReturnType<typeof startServer>>
beforeAll(async () => {
  server = await startServer({ rateLimit: 5 })
})
afterAll(() => server.close())

describe("rate limits per API key", () => {
  it("sends RateLimit-* headers on every response and 429 with Retry-After past the limit", async () => {
    const key = (await server.key(["account.read"], "limited")).secret
    const seen: Array<{ status: number; remaining: string | null }> = []
    for (let i = 0; i < 5; i++) {
      const r = await server.call("GET", i === 2 ? "/api/v1/accounts/act_000000000000000000000000" : "/api/v1/accounts", { key })
      expect(r.headers.get("ratelimit-limit")).toBe("5")
      expect(Number(r.headers.get("ratelimit-reset"))).toBeGreaterThanOrEqual(0)
      seen.push({ status: r.status, remaining: r.headers.get("ratelimit-remaining") })
    }
    expect(seen.map((s) => s.remaining)).toEqual(["4", "3", "2", "1", "0"])
    expect(seen[2]!.status).toBe(404) // errors carry the headers too
    const limited = await server.call("GET", "/api/v1/accounts", { key })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
    expect(limited.headers.get("ratelimit-remaining")).toBe("0")
    expect(limited.json.errors[0].title).toBe("Rate limit exceeded")
    expect(validatePersona("GET", "/accounts", 429, limited.json)).toBeNull()
    expect(limited.headers.get("request-id")).toMatch(/^req_/)
  })

  it("counts each key separately and never limits health checks", async () => {
    const a = (await server.key(["account.read"], "a")).secret
    const b = (await server.key(["account.read"], "b")).secret
    for (let i = 0; i < 5; i++) await server.call("GET", "/api/v1/accounts", { key: a })
    expect((await server.call("GET", "/api/v1/accounts", { key: a })).status).toBe(429)
    expect((await server.call("GET", "/api/v1/accounts", { key: b })).status).toBe(200)
    for (let i = 0; i < 10; i++) expect((await server.call("GET", "/healthz", { key: null })).status).toBe(200)
  })
})

describe.runIf(postgresReachable)("rate limits shared by replicas on one Postgres", () => {
  it("counts a key's requests on every replica against one budget", async () => {
    const database = await freshDatabase("acct_ratelimit")
    const a = await startServer({ database: database.url, rateLimit: 6 })
    const b = await startServer({ database: database.url, rateLimit: 6, adminKey: a.admin })
    try {
      // Spend one key's budget alternating between the two replicas.
      const statuses: Array<number> = []
      for (let i = 0; i < 7; i++) statuses.push((await (i % 2 ? b : a).call("GET", "/api/v1/accounts")).status)
      expect(statuses.filter((s) => s === 200)).toHaveLength(6)
      expect(statuses[6]).toBe(429)
      expect((await b.call("GET", "/api/v1/accounts")).headers.get("ratelimit-remaining")).toBe("0")
    } finally {
      await a.close()
      await b.close()
      await database.drop()
    }
  })
})
