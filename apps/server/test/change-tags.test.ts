/** acct's change-tags extension: tags added and removed in one transaction, documented in the OpenAPI. */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
beforeAll(async () => void (server = await startServer()))
afterAll(() => server.close())

describe("POST /api/v1/accounts/{id}/change-tags", () => {
  it("adds and removes in one change, and refuses a contradiction or a wrong shape whole", async () => {
    const { jane } = await server.demo()
    const changed = await server.call("POST", `/api/v1/accounts/${jane}/change-tags`, { body: { meta: { "add-tags": ["gold", "silver"], "remove-tags": ["tag1"] } } })
    expect(changed.status, changed.text).toBe(200)
    expect(changed.json.data.attributes.tags).toEqual(["tag2", "gold", "silver"])

    const both = await server.call("POST", `/api/v1/accounts/${jane}/change-tags`, { body: { meta: { "add-tags": ["x"], "remove-tags": ["x"] } } })
    expect(both.status, both.text).toBe(422)
    expect(both.json.errors[0].details).toContain('tag "x" is both added and removed')

    const wrong = await server.call("POST", `/api/v1/accounts/${jane}/change-tags`, { body: { meta: { "add-tags": "gold" } } })
    expect(wrong.status).toBe(400)
    expect(wrong.json.errors[0].details).toBe('meta.add-tags: expected a list of strings, got "gold"')
    expect((await server.call("GET", `/api/v1/accounts/${jane}`)).json.data.attributes.tags).toEqual(["tag2", "gold", "silver"])
  })

  it("is in acct's OpenAPI, marked as an acct extension", async () => {
    const spec = (await server.call("GET", "/openapi.json")).json
    const operation = spec.paths["/api/v1/accounts/{accountId}/change-tags"]?.post ?? spec.paths["/api/v1/accounts/{account-id}/change-tags"]?.post
    expect(operation?.summary).toContain("acct extension")
  })
})
