import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer, validatePersona } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
let jane = ""
let setStatus = ""

beforeAll(async () => {
  server = await startServer()
  jane = (await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0].id
  setStatus = (await server.call("GET", "/api/v1/account-actions")).json.data.find((a: { attributes: { name: string } }) => a.attributes.name === "Set status").id
})
afterAll(() => server.close())

const run = (key: string, status: string, s = server) =>
  s.call("POST", `/api/v1/accounts/${jane}/run-action`, {
    headers: { "idempotency-key": key },
    body: { data: { "account-action-id": setStatus, parameters: { status } } }
  })

const runCount = async () => (await server.call("GET", `/api/v1/workflow-runs?filter%5Baccount-id%5D=${jane}&page%5Bsize%5D=100`)).json.data.length

describe("Idempotency-Key", () => {
  it("replays the first response to a repeat, with Idempotent-Replayed: true, running it once", async () => {
    const before = await runCount()
    const first = await run("key-replay", "activated")
    const again = await run("key-replay", "activated")
    expect(first.status).toBe(200)
    expect(again.status).toBe(200)
    expect(again.json.meta["workflow-run-id"]).toBe(first.json.meta["workflow-run-id"])
    expect(again.text).toBe(first.text)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(first.headers.get("idempotent-replayed")).toBeNull()
    expect(validatePersona("POST", "/accounts/{account-id}/run-action", 200, again.json)).toBeNull()
    expect(await runCount()).toBe(before + 1)
  })

  it("refuses the key on a different request with 422", async () => {
    await run("key-mismatch", "activated")
    const other = await run("key-mismatch", "disabled")
    expect(other.status).toBe(422)
    expect(other.json.errors[0].details).toContain("was already used for a different request")
    expect(validatePersona("POST", "/accounts/{account-id}/run-action", 422, other.json)).toBeNull()
  })

  it("executes concurrent duplicates once: the others get 409 or the replay", async () => {
    const before = await runCount()
    const responses = await Promise.all(Array.from({ length: 6 }, () => run("key-concurrent", "deactivated")))
    const ok = responses.filter((r) => r.status === 200)
    const inFlight = responses.filter((r) => r.status === 409)
    expect(ok.length + inFlight.length).toBe(6)
    expect(ok.length).toBeGreaterThanOrEqual(1)
    expect(new Set(ok.map((r) => r.json.meta["workflow-run-id"])).size).toBe(1)
    for (const r of inFlight) expect(r.json.errors[0].details).toContain("still in flight")
    expect(await runCount()).toBe(before + 1)
  })

  it("keeps refusals that never ran out of the record, so a corrected retry goes through", async () => {
    const bad = await server.call("POST", `/api/v1/accounts/${jane}/run-action`, {
      headers: { "idempotency-key": "key-fix" },
      body: { data: { "account-action-id": setStatus, parameters: { status: "activated" }, extra: true } }
    })
    expect(bad.status).toBe(400)
    const fixed = await run("key-fix", "activated")
    expect(fixed.status).toBe(200)
    expect(fixed.headers.get("idempotent-replayed")).toBeNull()
  })

  it("stores operation refusals (422) and replays them", async () => {
    const first = await run("key-invalid", "sideways")
    const again = await run("key-invalid", "sideways")
    expect(first.status).toBe(422)
    expect(again.status).toBe(422)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
  })

  it("refuses a malformed key", async () => {
    const response = await run("bad key with spaces", "activated")
    expect(response.status).toBe(400)
    expect(response.json.errors[0].details).toContain("Idempotency-Key must be 1–255 visible ASCII characters")
  })

  it("keys are per caller: another key's Idempotency-Key is its own", async () => {
    await run("key-shared", "activated")
    const other = (await server.key(["admin"], "other caller")).secret
    const response = await server.call("POST", `/api/v1/accounts/${jane}/run-action`, {
      key: other,
      headers: { "idempotency-key": "key-shared" },
      body: { data: { "account-action-id": setStatus, parameters: { status: "disabled" } } }
    })
    expect(response.status).toBe(200)
    expect(response.json.data.attributes["account-status"]).toBe("disabled")
  })

  it("survives a restart", async () => {
    const first = await run("key-restart", "pending")
    await server.close()
    server = await startServer({ database: server.database, adminKey: server.admin })
    const again = await run("key-restart", "pending")
    expect(again.status).toBe(200)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(again.json.meta["workflow-run-id"]).toBe(first.json.meta["workflow-run-id"])
  })
})
