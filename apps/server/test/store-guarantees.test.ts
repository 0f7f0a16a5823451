/** The store's guarantees through the HTTP service (a real server on a loopback port, real SQLite). */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
let jane = ""

beforeAll(async () => {
  server = await startServer()
  jane = (await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0].id
})
afterAll(() => server.close())

describe("store guarantees over HTTP", () => {
  it('PATCH {"fields":{"name":{"middle":"King"}}} keeps first and last', async () => {
    const response = await server.call("PATCH", `/api/v1/accounts/${jane}`, { body: { data: { attributes: { fields: { name: { middle: "King" } } } } } })
    expect(response.status, response.text).toBe(200)
    const name = response.json.data.attributes.fields.name.value
    expect(name).toEqual({ first: { type: "string", value: "Jane" }, middle: { type: "string", value: "King" }, last: { type: "string", value: "Doe" } })
  })
})
