import { fromAccountTypeWithMeta } from "@acct/api"
import { searchableFields } from "@acct/core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { personaRequestExamples, startServer, validatePersona, validatePersonaRequest } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
let typeId = ""

beforeAll(async () => {
  server = await startServer()
  typeId = (await server.call("GET", "/api/v1/account-types")).json.data[0].id
})
afterAll(() => server.close())

/** Posts a search the spec allows, checks the status and validates the answer against Persona's schema. */
const search = async (body: unknown, status = 200, options: { url?: string; key?: string } = {}) => {
  expect(validatePersonaRequest("POST", "/accounts/search", body)).toBeNull()
  const response = await server.call("POST", options.url ?? "/api/v1/accounts/search", { body, ...(options.key ? { key: options.key } : {}) })
  expect(response.status, response.text).toBe(status)
  expect(validatePersona("POST", "/accounts/search", status, response.json)).toBeNull()
  expect(response.headers.get("request-id")).toMatch(/^req_/)
  return response.json
}
const refs = (body: { data: ReadonlyArray<{ attributes: { "reference-id": string | null } }> }) => body.data.map((a) => a.attributes["reference-id"])

describe("POST /api/v1/accounts/search (validated against Persona's OpenAPI schemas)", () => {
  it("answers the spec's request examples, with the demo's type and statuses in place of ABC123", async () => {
    const examples = JSON.parse(JSON.stringify(personaRequestExamples("POST", "/accounts/search")).replaceAll("acttp_ABC123", typeId).replaceAll("actst_ABC123", "disabled").replaceAll("actst_ABC456", "pending"))
    expect(Object.keys(examples)).toEqual(["Simple query", "Complex boolean query", "Empty query (all accounts)"])
    const simple = await search(examples["Simple query"])
    expect(simple.data.every((a: { attributes: { "account-status": string } }) => a.attributes["account-status"] !== "disabled")).toBe(true)
    const created = simple.data.map((a: { attributes: { "created-at": string } }) => a.attributes["created-at"])
    expect(created).toEqual([...created].sort())
    const complex = await search(examples["Complex boolean query"])
    expect(complex.data.map((a: { attributes: { "account-status": string } }) => a.attributes["account-status"]).sort()).toEqual(["disabled", "disabled", "pending"])
    expect((await search(examples["Empty query (all accounts)"])).data).toHaveLength(6)
  })

  it("finds by searchable fields, tags and reference ids", async () => {
    expect(refs(await search({ query: { attribute: "fields.email_address", operator: "eq", value: "Jane@Doe.com" } }))).toEqual(["abc-123"])
    expect(refs(await search({ query: { and: [{ attribute: "tags", operator: "eq", value: "vip" }, { not: { attribute: "status", operator: "eq", value: "disabled" } }] } }))).toEqual(["def-456"])
    expect(refs(await search({ query: { attribute: "identifiers.reference_id", operator: "gte", value: "def" }, sort: { attribute: "identifiers.reference_id", direction: "asc" } }))).toEqual(["def-456", "ghi-789"])
  })

  it("pages with links.next / links.prev posted with the same body", async () => {
    const body = { query: { attribute: "type", operator: "eq", value: "User" }, sort: { attribute: "fields.name.last", direction: "asc" }, page: { size: 2 } }
    const seen: Array<string> = []
    let page = await search(body)
    expect(page.links.prev).toBeNull()
    seen.push(...page.data.map((a: { id: string }) => a.id))
    while (page.links.next) {
      expect(page.links.next).toMatch(/^\/api\/v1\/accounts\/search\?page%5Bafter%5D=act_/)
      page = await search(body, 200, { url: page.links.next })
      seen.push(...page.data.map((a: { id: string }) => a.id))
    }
    expect(seen).toHaveLength(6)
    expect(new Set(seen).size).toBe(6)
    const back = await search(body, 200, { url: page.links.prev })
    expect(back.data.map((a: { id: string }) => a.id)).toEqual(seen.slice(2, 4))
  })

  it("names the bad predicate in a 400", async () => {
    const bad = await search({ query: { and: [{ attribute: "status", operator: "eq", value: "disabled" }, { attribute: "fields.phone_number", operator: "eq", value: "1" }] } }, 400)
    expect(bad.errors[0].details).toMatch(/^query\.and\[1\]\.attribute: "fields\.phone_number" is not a searchable field; searchable: fields\.name\.first/)
    const operator = await search({ query: { or: [{ attribute: "status", operator: "like", value: "x" }] } }, 400)
    expect(operator.errors[0].details).toBe('query.or[0].operator: expected one of eq, gt, gte, lt, lte; got "like"')
    const deep = await server.call("POST", "/api/v1/accounts/search", { body: { query: { and: [{ or: [{ and: [{ attribute: "status", operator: "eq", value: "pending" }] }] }] } } })
    expect(deep.status).toBe(400)
    expect(deep.json.errors[0].details).toBe("query.and[0].or[0].and: clauses nest at most 2 levels deep (and, or, not)")
    const many = await server.call("POST", "/api/v1/accounts/search", { body: { query: { or: Array.from({ length: 21 }, () => ({ attribute: "status", operator: "eq", value: "pending" })) } } })
    expect(many.json.errors[0].details).toBe("query.or: expected a list of 1–20 conditions, got 21")
    const unknownKey = await server.call("POST", "/api/v1/accounts/search", { body: { filter: {} } })
    expect(unknownKey.status).toBe(400)
    expect(unknownKey.json.errors[0].details).toContain("filter")
    const size = await server.call("POST", "/api/v1/accounts/search", { body: { page: { size: 0 } } })
    expect(size.json.errors[0].details).toContain("page.size must be an integer from 1 to 100")
    const sort = await search({ sort: { attribute: "tags", direction: "asc" } }, 400)
    expect(sort.errors[0].details).toBe("sort.attribute: accounts cannot be sorted by tags")
  })

  it("needs account.read, like the list", async () => {
    const response = await server.call("POST", "/api/v1/accounts/search", { body: {}, key: null })
    expect(response.status).toBe(401)
    const writer = (await server.key(["account.write"])).secret
    const denied = await search({}, 403, { key: writer })
    expect(denied.errors[0].details).toContain("missing scope account.read")
    const reader = (await server.key(["account.read"])).secret
    expect((await search({}, 200, { key: reader })).data).toHaveLength(6)
  })

  it("is in acct's OpenAPI document", async () => {
    const openapi = (await server.call("GET", "/openapi.json")).json
    const operation = openapi.paths["/api/v1/accounts/search"].post
    expect(operation.summary).toBe("Search accounts")
    expect(JSON.stringify(operation.requestBody)).toContain("maxItems")
  })
})

describe("searchable fields on the account type (acct's meta.searchable)", () => {
  it("lists the search attributes of fields the catalog marks searchable, and a client reads the flag back", async () => {
    const listed = (await server.call("GET", "/api/v1/account-types")).json.data[0]
    expect(listed.meta.searchable).toEqual(expect.arrayContaining(["fields.email_address", "fields.name.last", "fields.birthdate", "fields.address.country_code"]))
    expect(listed.meta.searchable).not.toContain("fields.phone_number")
    expect(searchableFields(fromAccountTypeWithMeta(listed)).map((f) => `fields.${f.path}`)).toEqual(listed.meta.searchable)
  })
})
