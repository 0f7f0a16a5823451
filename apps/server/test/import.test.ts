/** Persona's account importer over HTTP: multipart and base64 JSON, validated against Persona's schemas. */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer, validatePersona } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>

beforeAll(async () => void (server = await startServer()))
afterAll(() => server.close())

const CSV = ["reference_id,name_first,name_last,birthdate,tags", "http-1,Ada,Lovelace,1815-12-10,vip", "http-2,Alan,Turing,1912-13-23,", "abc-123,Jane,Doe,,"].join("\n")

/** The importer once it is no longer pending. */
const settled = async (id: string) => {
  for (let i = 0; i < 200; i++) {
    const got = await server.call("GET", `/api/v1/importers/${id}`)
    expect(validatePersona("GET", "/importers/{importer-id}", 200, got.json)).toBeNull()
    if (got.json.data.attributes.status !== "pending") return got.json
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`importer ${id} still pending`)
}

const multipart = async (csv: string, key = server.admin) => {
  const form = new FormData()
  form.append("data[attributes][file]", new Blob([csv], { type: "text/csv" }), "accounts.csv")
  const response = await fetch(`${server.base}/api/v1/importer/accounts`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: form })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a response body, asserted field by field
  return { status: response.status, json: (await response.json()) as any }
}

describe("POST /api/v1/importer/accounts (validated against Persona's OpenAPI schemas)", () => {
  it("takes a multipart upload, answers a pending importer, then counts created, duplicate and refused rows", async () => {
    const created = await multipart(CSV)
    expect(created.status).toBe(201)
    expect(validatePersona("POST", "/importer/accounts", 201, created.json)).toBeNull()
    expect(created.json.data).toMatchObject({ type: "importer/account", attributes: { status: "pending", "completed-at": null } })
    expect(created.json.data.id).toMatch(/^mprt_[A-Za-z0-9]{24}$/)

    const done = await settled(created.json.data.id)
    expect(done.data.attributes).toMatchObject({ status: "ready", "successful-count": 1, "duplicate-count": 1, "error-count": 1 })
    const errors = await server.call("GET", `/api/v1/importers/${created.json.data.id}/errors`)
    expect(errors.json).toEqual({ data: [{ row: 3, column: "birthdate", problem: "expected a date as YYYY-MM-DD" }], links: { prev: null, next: null }, meta: { "row-count": 3, "account-type-id": expect.stringMatching(/^acttp_/) } })
    const ada = await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=http-1")
    expect(ada.json.data[0].attributes).toMatchObject({ tags: ["vip"], fields: { birthdate: { type: "date", value: "1815-12-10" } } })

    const list = await server.call("GET", "/api/v1/importers")
    expect(validatePersona("GET", "/importers", 200, list.json)).toBeNull()
    expect(list.json.data.map((i: { id: string }) => i.id)).toContain(created.json.data.id)
  })

  it("takes the spec's JSON form (base64), and a repeat of the same file creates nothing", async () => {
    const body = (csv: string) => ({ body: { data: { attributes: { file: { data: Buffer.from(csv).toString("base64"), filename: "accounts.csv" } } } } })
    const first = await server.call("POST", "/api/v1/importer/accounts", body("reference_id,name_first\njson-1,Grace\njson-2,Edsger"))
    expect(first.status, first.text).toBe(201)
    expect(validatePersona("POST", "/importer/accounts", 201, first.json)).toBeNull()
    expect((await settled(first.json.data.id)).data.attributes).toMatchObject({ "successful-count": 2, "duplicate-count": 0 })
    const again = await server.call("POST", "/api/v1/importer/accounts", body("reference_id,name_first\njson-1,Grace\njson-2,Edsger"))
    expect((await settled(again.json.data.id)).data.attributes).toMatchObject({ "successful-count": 0, "duplicate-count": 2 })
  })

  it("is in acct's OpenAPI with both of Persona's request forms", async () => {
    const openapi = (await server.call("GET", "/openapi.json", { key: null })).json
    expect(Object.keys(openapi.paths["/api/v1/importer/accounts"].post.requestBody.content).sort()).toEqual(["application/json", "multipart/form-data"])
    expect(openapi.paths["/api/v1/importers/{importerId}/errors"].get).toBeDefined()
  })

  it("refuses a file that cannot be imported as a whole with the statuses Persona documents, naming the problem", async () => {
    const unknown = await multipart("reference_id,favourite_colour\nx,blue")
    expect(unknown.status).toBe(400)
    expect(validatePersona("POST", "/importer/accounts", 400, unknown.json)).toBeNull()
    expect(unknown.json.errors[0].details).toContain('unknown column "favourite_colour"')
    const notBase64 = await server.call("POST", "/api/v1/importer/accounts", { body: { data: { attributes: { file: { data: "%%%" } } } } })
    expect(notBase64.status).toBe(400)
    expect(notBase64.json.errors[0].details).toContain("base64")
    const unknownType = await server.call("POST", "/api/v1/importer/accounts?account-type-id=Robot", { body: { data: { attributes: { file: { data: Buffer.from("reference_id\nx").toString("base64") } } } } })
    expect(unknownType.status).toBe(422)
    expect(validatePersona("POST", "/importer/accounts", 422, unknownType.json)).toBeNull()
    const readOnly = await multipart("reference_id\nx", (await server.key(["account.read"])).secret)
    expect(readOnly.status).toBe(403)
    const text = await server.call("POST", "/api/v1/importer/accounts", { raw: "reference_id\nx", headers: { "content-type": "text/csv" } })
    expect(text.status).toBe(415)
    expect(text.json.errors[0].details).toContain("multipart/form-data")
    const missing = await server.call("GET", "/api/v1/importers/mprt_000000000000000000000000")
    expect(missing.status).toBe(404)
    expect(validatePersona("GET", "/importers/{importer-id}", 404, missing.json)).toBeNull()
  })
})
