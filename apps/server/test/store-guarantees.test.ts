/** The store's guarantees through the HTTP service (a real server on a loopback port, real SQLite). */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
let jane = ""
let typeId = ""

beforeAll(async () => {
  server = await startServer()
  const found = (await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0]
  jane = found.id
  typeId = found.relationships["account-type"].data.id
})
afterAll(() => server.close())

describe("store guarantees over HTTP", () => {
  it('PATCH {"fields":{"name":{"middle":"King"}}} keeps first and last', async () => {
    const response = await server.call("PATCH", `/api/v1/accounts/${jane}`, { body: { data: { attributes: { fields: { name: { middle: "King" } } } } } })
    expect(response.status, response.text).toBe(200)
    const name = response.json.data.attributes.fields.name.value
    expect(name).toEqual({ first: { type: "string", value: "Jane" }, middle: { type: "string", value: "King" }, last: { type: "string", value: "Doe" } })
  })

  it("after DELETE, nothing serves the personal data (replays, runs) and consolidation cannot refill it", async () => {
    const email = "erin.redactme@example.org"
    const create = { data: { attributes: { "account-type-id": typeId, fields: { email_address: email, name: { first: "Erinna" } } } } }
    const headers = { "idempotency-key": "create-erin" }
    const created = await server.call("POST", "/api/v1/accounts", { body: create, headers })
    expect(created.status, created.text).toBe(201)
    const id = created.json.data.id
    const actions = (await server.call("GET", "/api/v1/account-actions")).json.data
    const update = actions.find((a: { attributes: { name: string } }) => a.attributes.name === "Update contact").id
    const run = await server.call("POST", `/api/v1/accounts/${id}/run-action`, { body: { data: { "account-action-id": update, parameters: { email_address: email } } }, headers: { "idempotency-key": "run-erin" } })
    expect(run.status, run.text).toBe(200)
    expect((await server.call("DELETE", `/api/v1/accounts/${id}`)).status).toBe(200)

    const replay = await server.call("POST", "/api/v1/accounts", { body: create, headers })
    expect(replay.status).toBeLessThan(300)
    expect(replay.json.data.id).toBe(id)
    expect(replay.json.data.attributes["redacted-at"]).not.toBeNull()
    expect(replay.text).not.toContain(email)
    const runReplay = await server.call("POST", `/api/v1/accounts/${id}/run-action`, { body: { data: { "account-action-id": update, parameters: { email_address: email } } }, headers: { "idempotency-key": "run-erin" } })
    expect(runReplay.text).not.toContain(email)
    const runs = await server.call("GET", `/api/v1/workflow-runs?filter%5Baccount-id%5D=${id}`)
    expect(runs.status).toBe(200)
    expect(runs.text).not.toContain(email)

    // It can never regain personal data: consolidating into it is a 409 that says why.
    const donor = (await server.call("POST", "/api/v1/accounts", { body: { data: { attributes: { "account-type-id": typeId, fields: { email_address: "donor@example.org" } } } } })).json.data.id
    const refill = await server.call("POST", `/api/v1/accounts/${id}/consolidate`, { body: { meta: { "source-account-ids": [donor] } } })
    expect(refill.status).toBe(409)
    expect(refill.text).toContain("was redacted; consolidating into it would give it personal data again")
    expect((await server.call("GET", `/api/v1/accounts/${id}`)).text).not.toContain("donor@example.org")
  })

  it("one idempotency rule: the same JSON with its keys in another order replays, it is not a 422", async () => {
    const headers = { "idempotency-key": "order-http", "content-type": "application/json" }
    const first = await server.call("PATCH", `/api/v1/accounts/${jane}`, { raw: '{"data":{"attributes":{"fields":{"phone_number":"555-0199","email_address":"j@d.io"}}}}', headers })
    expect(first.status, first.text).toBe(200)
    const again = await server.call("PATCH", `/api/v1/accounts/${jane}`, { raw: '{"data":{"attributes":{"fields":{"email_address":"j@d.io","phone_number":"555-0199"}}}}', headers })
    expect(again.status, again.text).toBe(200)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(again.json).toEqual(first.json)
  })

  it("SoftwareOne view = lifecycle: the demo's pending account shows as Disabled and can be enabled", async () => {
    const liam = (await server.call("GET", "/api/v1/accounts?filter%5Btag%5D=new")).json.data[0]
    expect(liam.attributes["account-status"]).toBe("pending")
    const shown = await server.call("GET", `/v1/accounts/accounts/${liam.id}`)
    expect(shown.json.status).toBe("Disabled")
    const disabled = await server.call("POST", `/v1/accounts/accounts/${liam.id}/disable`)
    expect(disabled.status).toBe(400)
    expect(disabled.json.detail).toContain('it is Disabled (status "pending" counts as Disabled)')
    const enabled = await server.call("POST", `/v1/accounts/accounts/${liam.id}/enable`)
    expect(enabled.status, enabled.text).toBe(200)
    expect(enabled.json.status).toBe("Enabled")
  })
})
