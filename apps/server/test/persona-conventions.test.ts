/**
 * Persona's conventions as a client written against Persona's documentation meets them:
 * Key-Inflection, Persona-Version, include and sparse fieldsets, flat attributes and upserts,
 * PATCH with tags and status, tags by id, reference-id lists, the documented statuses, and
 * unknown query parameters. Every answer is validated against Persona's schemas (in the
 * inflection asked for).
 */
import { Accounts, tagId } from "@acct/core"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer, validatePersona } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
let jane = ""
let typeId = ""
let setStatus = ""

beforeAll(async () => {
  server = await startServer()
  ;({ jane, typeId, setStatus } = await server.demo())
})
afterAll(() => server.close())

const conforms = async (method: string, url: string, template: string, status: number, options: Parameters<typeof server.call>[2] = {}, inflection: "kebab" | "camel" | "snake" = "kebab") => {
  const response = await server.call(method, url, { ...options, headers: { ...(inflection === "kebab" ? {} : { "key-inflection": inflection }), ...options.headers } })
  expect(response.status, response.text).toBe(status)
  expect(validatePersona(method, template, status, response.json, inflection)).toBeNull()
  return response
}

const version = async (id: string) => (await server.runtime.runPromise(Effect.flatMap(Accounts, (a) => a.get({ id: id as never })))).version

describe("Key-Inflection", () => {
  it.each(["camel", "snake"] as const)("answers %s keys (never inside fields) and accepts them in requests", async (inflection) => {
    const key = (kebab: string) => (inflection === "camel" ? kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()) : kebab.replace(/-/g, "_"))
    const created = await conforms("POST", "/api/v1/accounts?include=account-type", "/accounts", 201, {
      body: { data: { attributes: { [key("account-type-id")]: typeId, [key("reference-id")]: `infl-${inflection}`, [key("name-first")]: "Ada", fields: { email_address: "ada@example.com" } } } }
    }, inflection)
    const attributes = created.json.data.attributes
    expect(attributes[key("reference-id")]).toBe(`infl-${inflection}`)
    expect(attributes[key("account-type-name")]).toBe("User")
    expect(attributes.fields.email_address).toEqual({ type: "email-address", value: "ada@example.com" })
    expect(attributes.fields.name.value.first).toEqual({ type: "string", value: "Ada" })
    expect(created.json.data.relationships[key("account-type")].data.type).toBe("account-type")
    expect(created.json.included[0].attributes[key("field-schemas")]).toBeDefined()
    const id = created.json.data.id
    await conforms("GET", `/api/v1/accounts/${id}`, "/accounts/{account-id}", 200, {}, inflection)
    await conforms("GET", "/api/v1/accounts?page%5Bsize%5D=3", "/accounts", 200, {}, inflection)
    const patched = await conforms("PATCH", `/api/v1/accounts/${id}`, "/accounts/{account-id}", 200, { body: { data: { attributes: { [key("account-status")]: "activated", [key("phone-number")]: "555" } } } }, inflection)
    expect(patched.json.data.attributes[key("account-status")]).toBe("activated")
    await conforms("POST", `/api/v1/accounts/${id}/add-tag`, "/accounts/{account-id}/add-tag", 200, { body: { meta: { [key("tag-name")]: "x" } } }, inflection)
    await conforms("POST", `/api/v1/accounts/${id}/set-tags`, "/accounts/{account-id}/set-tags", 200, { body: { meta: { [key("tag-name")]: ["y"] } } }, inflection)
    await conforms("POST", `/api/v1/accounts/${id}/remove-tag`, "/accounts/{account-id}/remove-tag", 200, { body: { meta: { [key("tag-name")]: "y" } } }, inflection)
    const run = await conforms("POST", `/api/v1/accounts/${id}/run-action`, "/accounts/{account-id}/run-action", 200, {
      body: { data: { [key("account-action-id")]: setStatus, parameters: { status: "deactivated" } } }
    }, inflection)
    expect(run.json.meta[key("workflow-run-id")]).toMatch(/^wfr_/)
    await conforms("GET", `/api/v1/account-types/${typeId}`, "/account-types/{account-type-id}", 200, {}, inflection)
    await conforms("DELETE", `/api/v1/accounts/${id}`, "/accounts/{account-id}", 200, {}, inflection)
  })

  it("answers the README's camelCase upsert as it says", async () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")
    const body = /-H 'Key-Inflection: camel' \\\n\s+-d '(.*)'/.exec(readme)?.[1]
    expect(body).toBeDefined()
    const created = await conforms("POST", "/api/v1/accounts?include=account-type", "/accounts", 201, { raw: body!, headers: { "content-type": "application/json" } }, "camel")
    expect(created.json.data.attributes).toMatchObject({ referenceId: "usr_42", accountTypeName: "User" })
    expect(created.json.included[0].type).toBe("account-type")
    await conforms("POST", "/api/v1/accounts?include=account-type", "/accounts", 200, { raw: body!, headers: { "content-type": "application/json" } }, "camel")
  })

  it("replays an idempotent request in the inflection of the repeat", async () => {
    const body = { data: { attributes: { "reference-id": "infl-replay" } } }
    const first = await server.call("POST", "/api/v1/accounts", { body, headers: { "idempotency-key": "infl-replay-1" } })
    expect(first.status).toBe(201)
    const again = await server.call("POST", "/api/v1/accounts", { body: { data: { attributes: { referenceId: "infl-replay" } } }, headers: { "idempotency-key": "infl-replay-1", "key-inflection": "camel" } })
    expect(again.status).toBe(201)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(again.json.data.attributes.referenceId).toBe("infl-replay")
  })

  it.each([
    ["camel", "accountTypeId", "referenceId", "tagName"],
    ["snake", "account_type_id", "reference_id", "tag_name"]
  ] as const)("names the fields of a refused %s body as the client sent them", async (inflection, accountTypeId, referenceId, tagName) => {
    const headers = { "key-inflection": inflection }
    const create = await server.call("POST", "/api/v1/accounts", { headers, body: { data: { attributes: { [accountTypeId]: 5, [referenceId]: "infl-refused", fields: { "odd-key": 1, email_address: { nested_key: 1 } } } } } })
    expect(create.status, create.text).toBe(400)
    expect(create.json.errors[0].details).toContain(`data.attributes.${accountTypeId}: expected a string, got 5`)
    expect(create.json.errors[0].details).not.toContain("account-type-id")
    const unknown = await server.call("POST", `/api/v1/accounts/${jane}/add-tag`, { headers, body: { meta: { [tagName]: "x", tagNam: "y" } } })
    expect(unknown.status, unknown.text).toBe(400)
    expect(unknown.json.errors[0].details).toMatch(new RegExp(`^meta\\.${inflection === "camel" ? "tagNam" : "tag_nam"}: is not a known field \\(known: [^)]*\\b${tagName}\\b`))
    // Path parameters keep their names: the client sent no keys there.
    const badId = await server.call("GET", "/api/v1/accounts/not-an-id", { headers })
    expect(badId.status).toBe(400)
    expect(badId.json.errors[0].details).toBe((await server.call("GET", "/api/v1/accounts/not-an-id")).json.errors[0].details)
    expect(await version(jane)).toBeGreaterThan(0)
  })

  it.each(["pascal", "", "kebab,camel"])("refuses Key-Inflection %j with a 400", async (value) => {
    const response = await server.call("GET", `/api/v1/accounts/${jane}`, { headers: { "key-inflection": value } })
    expect(response.status).toBe(400)
    expect(response.json.errors[0].details).toBe(`Key-Inflection: expected kebab, camel or snake; got ${JSON.stringify(value)}`)
  })
})

describe("Persona-Version", () => {
  it("answers with the version used", async () => {
    for (const headers of [{}, { "persona-version": "2025-12-08" }]) {
      const response = await server.call("GET", `/api/v1/accounts/${jane}`, { headers })
      expect(response.status).toBe(200)
      expect(response.headers.get("persona-version")).toBe("2025-12-08")
    }
    expect((await server.call("GET", "/v1/accounts/accounts")).headers.get("persona-version")).toBeNull()
  })

  it.each(["1999-01-01", "2023-01-05", "garbage", ""])("refuses %j with a 400 naming the supported versions", async (value) => {
    const response = await server.call("GET", `/api/v1/accounts/${jane}`, { headers: { "persona-version": value } })
    expect(response.status).toBe(400)
    expect(response.json.errors[0].details).toBe(`Persona-Version: acct supports 2025-12-08; got ${JSON.stringify(value)}`)
  })
})

describe("include and sparse fieldsets", () => {
  it("fills included with the account type, and keeps only the attributes asked for", async () => {
    const withType = await conforms("GET", `/api/v1/accounts/${jane}?include=account-type`, "/accounts/{account-id}", 200)
    expect(withType.json.included).toEqual([expect.objectContaining({ type: "account-type", id: typeId })])
    expect((await server.call("GET", `/api/v1/accounts/${jane}`)).json.included).toBeUndefined()
    const sparse = await conforms("GET", `/api/v1/accounts/${jane}?fields%5Baccount%5D=tags`, "/accounts/{account-id}", 200)
    expect(sparse.json.data.attributes).toEqual({ tags: ["tag1", "tag2"] })
    const list = await conforms("GET", "/api/v1/accounts?fields%5Baccount%5D=account-status,reference-id&page%5Bsize%5D=2", "/accounts", 200)
    for (const account of list.json.data) expect(Object.keys(account.attributes).sort()).toEqual(["account-status", "reference-id"])
    const both = await conforms("GET", `/api/v1/accounts/${jane}?include=account-type&fields%5Baccount-type%5D=name&fields%5Baccount%5D=tags`, "/accounts/{account-id}", 200)
    expect(both.json.included[0].attributes).toEqual({ name: "User" })
    const camel = await conforms("GET", `/api/v1/accounts/${jane}?fields%5Baccount%5D=accountStatus`, "/accounts/{account-id}", 200, {}, "camel")
    expect(Object.keys(camel.json.data.attributes)).toEqual(["accountStatus"])
  })

  it.each([
    [`include=relations`, "include: expected a comma-separated list of account-type"],
    [`fields%5Baccount%5D=tagz`, "fields[account]: expected a comma-separated list of reference-id, account-type-name"],
    [`fields%5Bacount%5D=tags`, "fields[acount]: is not a known field"]
  ])("refuses ?%s with a 400 that names it", async (query, details) => {
    const response = await server.call("GET", `/api/v1/accounts/${jane}?${query}`)
    expect(response.status, response.text).toBe(400)
    expect(response.json.errors[0].details).toContain(details)
  })
})

describe("create and update with Persona's attributes", () => {
  it("maps flat attributes onto the default type's fields, without an account-type-id", async () => {
    const created = await conforms("POST", "/api/v1/accounts", "/accounts", 201, {
      body: {
        data: {
          attributes: {
            "reference-id": "flat-1",
            "name-first": "Jane",
            "name-middle": "Q",
            "name-last": "Public",
            "email-address": "jq@example.com",
            "phone-number": "415-555-1234",
            birthdate: "1994-04-12",
            "address-street-1": "123 Main St",
            "address-street-2": "Apt 1",
            "address-city": "San Francisco",
            "address-subdivision": "California",
            "address-postal-code": "94111",
            "country-code": "US",
            "social-security-number": "123-45-6789",
            "selfie-photo": { data: { data: "aGVsbG8=", filename: "me.png" } }
          }
        }
      }
    })
    const fields = created.json.data.attributes.fields
    expect(created.json.data.attributes["account-type-name"]).toBe("User")
    expect(fields.name.value).toEqual({ first: { type: "string", value: "Jane" }, middle: { type: "string", value: "Q" }, last: { type: "string", value: "Public" } })
    expect(fields.address.value.country_code).toEqual({ type: "string", value: "US" })
    expect(fields.address.value.street_2).toEqual({ type: "string", value: "Apt 1" })
    expect(fields.birthdate).toEqual({ type: "date", value: "1994-04-12" })
    expect(fields.social_security_number).toEqual({ type: "string", value: "123-45-6789" })
    expect(fields.selfie_photo).toEqual({ type: "file", value: { filename: "me.png", "byte-size": 5 } })
  })

  it("upserts by reference id: 201 the first time, 200 and the same account after", async () => {
    const body = (first: string) => ({ data: { attributes: { "reference-id": "upsert-1", "name-first": first, tags: ["u"] } }, meta: { "upsert-by": "reference-id" } })
    const created = await conforms("POST", "/api/v1/accounts", "/accounts", 201, { body: body("Ann") })
    const updated = await conforms("POST", "/api/v1/accounts", "/accounts", 200, { body: body("Anne") })
    expect(updated.json.data.id).toBe(created.json.data.id)
    expect(updated.json.data.attributes.fields.name.value.first.value).toBe("Anne")
    const refused = await server.call("POST", "/api/v1/accounts", { body: { data: { attributes: {} }, meta: { "upsert-by": "reference-id" } } })
    expect(refused.status).toBe(400)
    expect((await server.call("POST", "/api/v1/accounts", { body: { data: { attributes: {} }, meta: { "upsert-by": "email" } } })).status).toBe(400)
  })

  it("answers an unknown account-type-id with a 422 (documented for create), not a 404", async () => {
    const response = await conforms("POST", "/api/v1/accounts", "/accounts", 422, { body: { data: { attributes: { "account-type-id": "acttp_000000000000000000000000" } } } })
    expect(response.json.errors[0].details).toBe('data.attributes.account-type-id: no account type "acttp_000000000000000000000000"')
  })

  it("checks the caller's scope before looking the type up", async () => {
    const reader = (await server.key(["account.read"])).secret
    const refused = await conforms("POST", "/api/v1/accounts", "/accounts", 403, { key: reader, body: { data: { attributes: { "account-type-id": "acttp_000000000000000000000000" } } } })
    expect(refused.json.errors[0].details).toContain("missing scope account.write")
    await conforms("PATCH", `/api/v1/accounts/${jane}`, "/accounts/{account-id}", 403, { key: reader, body: { data: { attributes: { "name-first": "X" } } } })
  })

  it("refuses a value set both by fields and by a flat attribute, naming both", async () => {
    const response = await conforms("POST", "/api/v1/accounts", "/accounts", 422, { body: { data: { attributes: { "name-first": "A", fields: { name: { first: "B" } } } } } })
    expect(response.json.errors[0].details).toContain("data.attributes.fields.name.first: is set twice")
  })

  it("PATCHes tags, account-status and flat attributes as one change", async () => {
    const created = await conforms("POST", "/api/v1/accounts", "/accounts", 201, { body: { data: { attributes: { "name-first": "Pat", "name-last": "Ch", tags: ["old"] } } } })
    const id = created.json.data.id
    const before = await version(id)
    const patched = await conforms("PATCH", `/api/v1/accounts/${id}`, "/accounts/{account-id}", 200, {
      body: { data: { attributes: { tags: ["new", "vip"], "account-status": "activated", "name-first": "Patricia", fields: { phone_number: "1" } } } }
    })
    const attributes = patched.json.data.attributes
    expect(attributes.tags).toEqual(["new", "vip"])
    expect(attributes["account-status"]).toBe("activated")
    expect(attributes.fields.name.value).toMatchObject({ first: { value: "Patricia" }, last: { value: "Ch" } })
    expect(await version(id)).toBe(before + 1)
    // A refused part refuses all of it.
    const refused = await conforms("PATCH", `/api/v1/accounts/${id}`, "/accounts/{account-id}", 422, { body: { data: { attributes: { tags: ["z"], "account-status": "sideways" } } } })
    expect(refused.json.errors[0].details).toContain("data.attributes.account-status: expected one of pending, activated, deactivated, disabled")
    expect((await server.call("GET", `/api/v1/accounts/${id}`)).json.data.attributes.tags).toEqual(["new", "vip"])
    const cleared = await conforms("PATCH", `/api/v1/accounts/${id}`, "/accounts/{account-id}", 200, { body: { data: { attributes: { tags: null } } } })
    expect(cleared.json.data.attributes.tags).toEqual([])
  })

  it("never answers null where Persona types a string (identification numbers)", async () => {
    const created = await conforms("POST", "/api/v1/accounts", "/accounts", 201, {
      body: { data: { attributes: { "account-type-id": typeId, fields: { identification_numbers: [{ identification_class: "visa", identification_number: "1" }] } } } }
    })
    expect(created.json.data.attributes.fields.identification_numbers.value).toEqual([
      { type: "hash", value: { identification_class: { type: "string", value: "visa" }, identification_number: { type: "string", value: "1" } } }
    ])
  })
})

describe("tags by id", () => {
  it("adds, removes and sets tags by meta.tag-id", async () => {
    const id = (await server.call("POST", "/api/v1/accounts", { body: { data: { attributes: {} } } })).json.data.id
    const added = await conforms("POST", `/api/v1/accounts/${id}/add-tag`, "/accounts/{account-id}/add-tag", 200, { body: { meta: { "tag-id": tagId("vip") } } })
    expect(added.json.data.attributes.tags).toEqual(["vip"])
    const set = await conforms("POST", `/api/v1/accounts/${id}/set-tags`, "/accounts/{account-id}/set-tags", 200, { body: { meta: { "tag-id": [tagId("a"), tagId("b")], "tag-name": ["c"] } } })
    expect(set.json.data.attributes.tags).toEqual(["c", "a", "b"])
    const removed = await conforms("POST", `/api/v1/accounts/${id}/remove-tag`, "/accounts/{account-id}/remove-tag", 200, { body: { meta: { "tag-id": tagId("a") } } })
    expect(removed.json.data.attributes.tags).toEqual(["c", "b"])
    const bad = await conforms("POST", `/api/v1/accounts/${id}/add-tag`, "/accounts/{account-id}/add-tag", 400, { body: { meta: { "tag-id": "vip" } } })
    expect(bad.json.errors[0].details).toContain("meta.tag-id: expected a tag id")
    expect((await conforms("POST", `/api/v1/accounts/${id}/add-tag`, "/accounts/{account-id}/add-tag", 400, { body: { meta: {} } })).json.errors[0].details).toContain("tag-name or as tag-id")
  })
})

describe("queries", () => {
  it("filters by a comma-separated list of reference ids", async () => {
    const list = await conforms("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123,def-456", "/accounts", 200)
    expect(list.json.data.map((a: { attributes: { "reference-id": string } }) => a.attributes["reference-id"]).sort()).toEqual(["abc-123", "def-456"])
  })

  it.each(["filter%5Bacount-status%5D=disabled", "page%5Bsise%5D=5", "colour=red"])("refuses the unknown parameter in ?%s with a 400 naming it", async (query) => {
    const response = await conforms("GET", `/api/v1/accounts?${query}`, "/accounts", 400)
    expect(response.json.errors[0].details).toContain(`${decodeURIComponent(query.split("=")[0]!)}: is not a known field`)
  })

  it("refuses an include where Persona's spec offers none", async () => {
    expect((await server.call("GET", "/api/v1/accounts?include=account-type")).status).toBe(400)
  })
})

describe("statuses per operation, as Persona's spec documents them", () => {
  it("declares in acct's OpenAPI only statuses the spec documents, plus acct's documented extensions", async () => {
    const persona = JSON.parse(readFileSync(new URL("../../../specs/persona-api-2025-12-08.openapi.json", import.meta.url), "utf8"))
    const acct = (await server.call("GET", "/openapi.json", { key: null })).json
    const extensions = ["413", "415", "431", "503"]
    let compared = 0
    for (const [path, operations] of Object.entries<Record<string, { responses: Record<string, unknown>; parameters?: Array<{ name: string; in: string }> }>>(acct.paths)) {
      if (!path.startsWith("/api/v1/")) continue
      const template = path.slice("/api/v1".length).replace("{accountId}", "{account-id}").replace("{accountTypeId}", "{account-type-id}")
      for (const [method, operation] of Object.entries(operations)) {
        const headers = (operation.parameters ?? []).filter((p) => p.in === "header").map((p) => p.name)
        expect(headers, `${method} ${path}`).toEqual(expect.arrayContaining(["Key-Inflection", "Persona-Version"]))
        for (const status of extensions.filter((s) => s !== "413" && s !== "415")) expect(Object.keys(operation.responses), `${method} ${path}`).toContain(status)
        const documented = persona.paths[template]?.[method]?.responses
        if (!documented) continue
        compared++
        const undocumented = Object.keys(operation.responses).filter((status) => !(status in documented) && !extensions.includes(status))
        expect(undocumented, `${method} ${path}`).toEqual([])
      }
    }
    expect(compared).toBeGreaterThanOrEqual(11)
  })
})
