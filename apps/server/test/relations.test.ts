/** Persona's relation endpoints, validated against Persona's own schemas. */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { conformsOn, startServer } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
const ids: Record<string, string> = {}

beforeAll(async () => {
  server = await startServer()
  for (const ref of ["abc-123", "def-456", "ghi-789"]) ids[ref] = (await server.call("GET", `/api/v1/accounts?filter%5Breference-id%5D=${ref}`)).json.data[0].id
})
afterAll(() => server.close())

const conforms = conformsOn(() => server)

const relate = (key: string, target: string) => ({ body: { meta: { "relation-schema-key": key, "target-object-id": target } } })

describe("relations (validated against Persona's OpenAPI schemas)", () => {
  it("adds, lists with filter[key] in cursor pages, and removes", async () => {
    const jane = ids["abc-123"]!
    await conforms("POST", `/api/v1/accounts/${jane}/add-relation`, "/accounts/{account-id}/add-relation", 200, relate("household", ids["def-456"]!))
    const added = await conforms("POST", `/api/v1/accounts/${jane}/add-relation`, "/accounts/{account-id}/add-relation", 200, relate("household", ids["ghi-789"]!))
    expect(added.data.id).toBe(jane)

    const first = await conforms("GET", `/api/v1/accounts/${jane}/relations?filter%5Bkey%5D=household&page%5Bsize%5D=1`, "/accounts/{account-id}/relations", 200)
    expect(first.data.map((a: { id: string }) => a.id)).toEqual([ids["ghi-789"]])
    expect(first.links.next).toBe(`/api/v1/accounts/${jane}/relations?filter%5Bkey%5D=household&page%5Bsize%5D=1&page%5Bafter%5D=${ids["ghi-789"]}`)
    const second = await conforms("GET", first.links.next, "/accounts/{account-id}/relations", 200)
    expect(second.data.map((a: { id: string }) => a.id)).toEqual([ids["def-456"]])
    expect(second.links.next).toBeNull()

    const later = await conforms("GET", `/api/v1/accounts/${jane}/relations?filter%5Bkey%5D=household&filter%5Bcreated-at-start%5D=2999-01-01T00:00:00Z`, "/accounts/{account-id}/relations", 200)
    expect(later.data).toEqual([])

    await conforms("POST", `/api/v1/accounts/${jane}/remove-relation`, "/accounts/{account-id}/remove-relation", 200, relate("household", ids["ghi-789"]!))
    const left = await conforms("GET", `/api/v1/accounts/${jane}/relations?filter%5Bkey%5D=household`, "/accounts/{account-id}/relations", 200)
    expect(left.data.map((a: { id: string }) => a.id)).toEqual([ids["def-456"]])
  })

  it("answers refusals in Persona's format, with statuses the spec documents, saying which field", async () => {
    const wei = ids["ghi-789"]!
    const noKey = await conforms("GET", `/api/v1/accounts/${wei}/relations`, "/accounts/{account-id}/relations", 400)
    expect(noKey.errors[0].details).toContain("filter[key]")
    const unknownKey = await conforms("GET", `/api/v1/accounts/${wei}/relations?filter%5Bkey%5D=spouse`, "/accounts/{account-id}/relations", 422)
    expect(unknownKey.errors[0].details).toContain("household, referred_by")
    await conforms("GET", "/api/v1/accounts/act_000000000000000000000000/relations?filter%5Bkey%5D=household", "/accounts/{account-id}/relations", 404)
    const badTarget = await conforms("POST", `/api/v1/accounts/${wei}/add-relation`, "/accounts/{account-id}/add-relation", 422, relate("household", "txn_ABC123"))
    expect(badTarget.errors[0].details).toContain("target-object-id")
    const missing = await conforms("POST", `/api/v1/accounts/${wei}/add-relation`, "/accounts/{account-id}/add-relation", 400, { body: { meta: { "relation-schema-key": "household" } } })
    expect(missing.errors[0].details).toContain("target-object-id")
    await conforms("POST", `/api/v1/accounts/${wei}/add-relation`, "/accounts/{account-id}/add-relation", 200, relate("referred_by", ids["abc-123"]!))
    const second = await conforms("POST", `/api/v1/accounts/${wei}/add-relation`, "/accounts/{account-id}/add-relation", 409, relate("referred_by", ids["def-456"]!))
    expect(second.errors[0].details).toContain("remove that relation first")
    await conforms("POST", `/api/v1/accounts/${wei}/remove-relation`, "/accounts/{account-id}/remove-relation", 404, relate("household", ids["abc-123"]!))
    const readOnly = (await server.key(["account.read"])).secret
    const forbidden = await conforms("POST", `/api/v1/accounts/${wei}/add-relation`, "/accounts/{account-id}/add-relation", 403, { ...relate("household", ids["abc-123"]!), key: readOnly })
    expect(forbidden.errors[0].details).toContain("account.write")
  })

  it("lists relation schemas among the type's field schemas, and their targets in acct's own type list", async () => {
    const typeId = (await server.call("GET", `/api/v1/accounts/${ids["abc-123"]}`)).json.data.relationships["account-type"].data.id
    const type = await conforms("GET", `/api/v1/account-types/${typeId}`, "/account-types/{account-type-id}", 200)
    expect(type.data.attributes["field-schemas"].filter((f: { type: string }) => f.type === "relation-schema")).toEqual([
      { type: "relation-schema", key: "household", label: "Household members", config: { required: false } },
      { type: "relation-schema", key: "referred_by", label: "Referred by", config: { required: false } }
    ])
    const listed = (await server.call("GET", "/api/v1/account-types")).json.data[0]
    expect(listed.meta.relations).toEqual([
      { key: "household", label: "Household members", "target-type": "User", cardinality: "many" },
      { key: "referred_by", label: "Referred by", "target-type": "User", cardinality: "one" }
    ])
  })
})
