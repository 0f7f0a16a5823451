import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer, validatePersona } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
let jane = ""
let setStatus = ""
let typeId = ""

beforeAll(async () => {
  server = await startServer()
  ;({ jane, typeId, setStatus } = await server.demo())
})
afterAll(() => server.close())

/** Calls, checks the status, and validates the body against Persona's schema for it. */
const conforms = async (method: string, url: string, template: string, status: number, options: Parameters<typeof server.call>[2] = {}) => {
  const response = await server.call(method, url, options)
  expect(response.status, response.text).toBe(status)
  expect(validatePersona(method, template, status, response.json)).toBeNull()
  expect(response.headers.get("request-id")).toMatch(/^req_[A-Za-z0-9]{24}$/)
  return response.json
}

describe("Persona-compatible surface (validated against Persona's OpenAPI schemas)", () => {
  it("runs an action exactly as in the Persona docs' curl", async () => {
    const response = await server.call("POST", `/api/v1/accounts/${jane}/run-action`, {
      headers: { accept: "application/json", "key-inflection": "kebab", "persona-version": "2025-12-08" },
      body: { data: { "account-action-id": setStatus, parameters: { status: "activated" } } }
    })
    expect(response.status).toBe(200)
    expect(validatePersona("POST", "/accounts/{account-id}/run-action", 200, response.json)).toBeNull()
    expect(response.json.data.attributes["account-status"]).toBe("activated")
    expect(response.json.meta["workflow-run-id"]).toMatch(/^wfr_[A-Za-z0-9]{24}$/)
    const run = await server.call("GET", `/api/v1/workflow-runs/${response.json.meta["workflow-run-id"]}`)
    expect(run.json.data.attributes).toMatchObject({ "action-name": "Set status", "status-before": "deactivated", "status-after": "activated", actor: { kind: "api-key" } })
  })

  it("names a refused attribute as the request body has it, not by the store's name for it", async () => {
    // Was "status: expected one of …" for a body that sent data.attributes.account-status, and
    // "invalid fields for User: fields.birthdate: …" for data.attributes.fields.birthdate.
    const refusals: Array<[string, string, Record<string, unknown>, string]> = [
      ["PATCH", `/api/v1/accounts/${jane}`, { "account-status": "sideways" }, 'data.attributes.account-status: expected one of pending, activated, deactivated, disabled; got "sideways"'],
      ["PATCH", `/api/v1/accounts/${jane}`, { "reference-id": "has space" }, "data.attributes.reference-id: expected 1–255 characters without spaces or control characters"],
      ["PATCH", `/api/v1/accounts/${jane}`, { fields: { birthdate: "yesterday" } }, "invalid fields for User: data.attributes.fields.birthdate: expected a date as YYYY-MM-DD"],
      ["PATCH", `/api/v1/accounts/${jane}`, { tags: ["ok", "a,b"] }, "data.attributes.tags[1]: expected a tag"],
      ["POST", "/api/v1/accounts", { "account-status": "sideways" }, "data.attributes.account-status: expected one of"],
      // A field set through a flat attribute is named by that attribute, not by the field it maps to.
      ["PATCH", `/api/v1/accounts/${jane}`, { birthdate: "yesterday" }, "invalid fields for User: data.attributes.birthdate: expected a date as YYYY-MM-DD"],
      ["PATCH", `/api/v1/accounts/${jane}`, { "email-address": "nope" }, "invalid fields for User: data.attributes.email-address: "]
    ]
    for (const [method, url, attributes, details] of refusals) {
      const response = await server.call(method, url, { body: { data: { attributes } } })
      expect([attributes, response.status]).toEqual([attributes, 422])
      expect(response.json.errors[0].details).toContain(details)
    }
    // Tags in the tag operations' meta, at the list and entry the request gave (was "tags[0]",
    // whichever list it was in).
    const tagRefusals: Array<[string, Record<string, unknown>, string]> = [
      ["add-tag", { "tag-name": "a,b" }, "meta.tag-name: expected a tag"],
      ["set-tags", { "tag-name": ["ok", "a,b"] }, "meta.tag-name[1]: expected a tag"],
      ["change-tags", { "add-tags": ["ok"], "remove-tags": ["fine", "a,b"] }, "meta.remove-tags[1]: expected a tag"],
      ["change-tags", { "add-tags": ["ok", "a,b"] }, "meta.add-tags[1]: expected a tag"],
      // At the entry as sent, before trimming and duplicates collapse.
      ["change-tags", { "add-tags": ["same"], "remove-tags": [" other", "other", " same "] }, 'meta.remove-tags[2]: tag "same" is both added and removed'],
      ["set-tags", { "tag-name": Array.from({ length: 101 }, (_, i) => `t${i}`) }, "meta: an account holds at most 100 tags"]
    ]
    for (const [operation, meta, details] of tagRefusals) {
      const response = await server.call("POST", `/api/v1/accounts/${jane}/${operation}`, { body: { meta } })
      expect([operation, meta, response.status]).toEqual([operation, meta, 422])
      expect(response.json.errors[0].details).toContain(details)
    }
    // A value outside a literal's union is said as the literals, not as the field's OpenAPI description.
    const upsert = await server.call("POST", "/api/v1/accounts", { body: { data: { attributes: {} }, meta: { "upsert-by": 7 } } })
    expect(upsert.status).toBe(400)
    expect(upsert.json.errors[0].details).toBe('meta.upsert-by: expected one of "reference-id", null; got 7')
    // And ids in a body or query: which one of them (was "expected an account id …" alone).
    const sources = await server.call("POST", `/api/v1/accounts/${jane}/consolidate`, { body: { meta: { "source-account-ids": ["abc-123", "has space"] } } })
    expect(sources.status).toBe(400)
    expect(sources.json.errors[0].details).toBe('meta.source-account-ids[1]: expected an account id or a reference id (1–255 characters, no spaces), got "has space"')
    const filter = await server.call("GET", "/api/v1/workflow-runs?filter%5Baccount-id%5D=act_1")
    expect(filter.status).toBe(400)
    expect(filter.json.errors[0].details).toMatch(/^filter\[account-id\]: expected an account id/)
  })

  it("lists, retrieves, creates, updates, tags, consolidates and redacts", async () => {
    const list = await conforms("GET", "/api/v1/accounts?page%5Bsize%5D=2", "/accounts", 200)
    expect(list.data).toHaveLength(2)
    expect(list.links.next).toMatch(/^\/api\/v1\/accounts\?page%5Bsize%5D=2&page%5Bafter%5D=act_/)
    expect(list.links.prev).toBeNull()
    await conforms("GET", `/api/v1/accounts/${jane}`, "/accounts/{account-id}", 200)
    const created = await conforms("POST", "/api/v1/accounts", "/accounts", 201, {
      body: { data: { attributes: { "account-type-id": typeId, "reference-id": "http-1", tags: ["beta"], fields: { name: { first: "Ada", last: "Lovelace" }, email_address: "ada@example.com" } } } }
    })
    const id = created.data.id
    expect(created.data.attributes.fields.email_address).toEqual({ type: "email-address", value: "ada@example.com" })
    await conforms("PATCH", `/api/v1/accounts/${id}`, "/accounts/{account-id}", 200, { body: { data: { attributes: { fields: { phone_number: "555-0100" } } } } })
    const tagged = await conforms("POST", `/api/v1/accounts/${id}/add-tag`, "/accounts/{account-id}/add-tag", 200, { body: { meta: { "tag-name": "vip" } } })
    expect(tagged.data.attributes.tags).toEqual(["beta", "vip"])
    await conforms("POST", `/api/v1/accounts/${id}/remove-tag`, "/accounts/{account-id}/remove-tag", 200, { body: { meta: { "tag-name": "beta" } } })
    const set = await conforms("POST", `/api/v1/accounts/${id}/set-tags`, "/accounts/{account-id}/set-tags", 200, { body: { meta: { "tag-name": ["x", "y"] } } })
    expect(set.data.attributes.tags).toEqual(["x", "y"])
    const dup = await conforms("POST", "/api/v1/accounts", "/accounts", 201, { body: { data: { attributes: { "account-type-id": typeId, tags: ["dup"] } } } })
    const merged = await conforms("POST", `/api/v1/accounts/${id}/consolidate`, "/accounts/{account-id}/consolidate", 202, { body: { meta: { "source-account-ids": [dup.data.id] } } })
    expect(merged.data.attributes.tags).toEqual(["x", "y", "dup"])
    const redacted = await conforms("DELETE", `/api/v1/accounts/${id}`, "/accounts/{account-id}", 200)
    expect(redacted.data.attributes["redacted-at"]).not.toBeNull()
    expect(redacted.data.attributes.fields.name.value.first).toEqual({ type: "string", value: null })
    expect(redacted.data.attributes.fields.email_address).toEqual({ type: "email-address", value: null })
    await conforms("GET", `/api/v1/account-types/${typeId}`, "/account-types/{account-type-id}", 200)
  })

  it("answers errors in Persona's format with the documented statuses", async () => {
    await conforms("GET", "/api/v1/accounts", "/accounts", 401, { key: null })
    await conforms("GET", "/api/v1/accounts", "/accounts", 401, { key: "acct_not_a_real_key_at_all_000000" })
    await conforms("GET", "/api/v1/accounts/act_000000000000000000000000", "/accounts/{account-id}", 404)
    const bad = await conforms("POST", `/api/v1/accounts/${jane}/run-action`, "/accounts/{account-id}/run-action", 422, {
      body: { data: { "account-action-id": setStatus, parameters: { status: "sideways" } } }
    })
    expect(bad.errors[0].details).toContain("parameters.status: expected one of pending, activated, deactivated, disabled")
    const wei = (await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=ghi-789")).json.data[0].id
    const reinstate = (await server.call("GET", "/api/v1/account-actions")).json.data.find((a: { attributes: { name: string } }) => a.attributes.name === "Suspend for review").id
    await server.call("POST", `/api/v1/accounts/${wei}/run-action`, { body: { data: { "account-action-id": reinstate, parameters: { reason: "x" } } } })
    const conflict = await conforms("POST", `/api/v1/accounts/${wei}/run-action`, "/accounts/{account-id}/run-action", 409, {
      body: { data: { "account-action-id": reinstate, parameters: { reason: "again" } } }
    })
    expect(conflict.errors[0].details).toContain("it is Disabled; disable applies to Active or Enabled accounts")
    const dupRef = await conforms("POST", "/api/v1/accounts", "/accounts", 409, { body: { data: { attributes: { "account-type-id": typeId, "reference-id": "abc-123" } } } })
    expect(dupRef.errors[0].details).toContain("already exists")
  })

  it("checks scopes per operation and names the missing one", async () => {
    const reader = (await server.key(["account.read"])).secret
    const operator = (await server.key(["account.read", "account.action"])).secret
    await conforms("GET", `/api/v1/accounts/${jane}`, "/accounts/{account-id}", 200, { key: reader })
    const denied = await conforms("POST", `/api/v1/accounts/${jane}/run-action`, "/accounts/{account-id}/run-action", 403, {
      key: reader,
      body: { data: { "account-action-id": setStatus, parameters: { status: "disabled" } } }
    })
    expect(denied.errors[0].details).toContain("missing scope account.action")
    await conforms("POST", `/api/v1/accounts/${jane}/run-action`, "/accounts/{account-id}/run-action", 200, {
      key: operator,
      body: { data: { "account-action-id": setStatus, parameters: { status: "deactivated" } } }
    })
    const noRedact = await conforms("DELETE", `/api/v1/accounts/${jane}`, "/accounts/{account-id}", 403, { key: operator })
    expect(noRedact.errors[0].details).toContain("missing scope account.redact")
    const writer = (await server.key(["account.write"])).secret
    expect((await server.call("GET", `/api/v1/accounts/${jane}`, { key: writer })).status).toBe(403)
  })

  it("refuses revoked keys", async () => {
    const { secret, key } = await server.key(["admin"], "to revoke")
    expect((await server.call("GET", "/api/v1/accounts", { key: secret })).status).toBe(200)
    const { ApiKeys } = await import("@acct/core")
    const { Effect } = await import("effect")
    await server.runtime.runPromise(Effect.flatMap(ApiKeys, (k) => k.revoke(key.id)))
    const after = await server.call("GET", "/api/v1/accounts", { key: secret })
    expect(after.status).toBe(401)
    expect(after.json).toEqual({ errors: [{ title: "Token is invalid" }] })
  })

  it("walks 250 accounts through links.next with no duplicates and none missing", async () => {
    const before = (await server.call("GET", "/api/v1/accounts?page%5Bsize%5D=100")).json.data.length
    for (let i = 0; i < 250 - before; i++) {
      const r = await server.call("POST", "/api/v1/accounts", { body: { data: { attributes: { "account-type-id": typeId, "reference-id": `walk-${i}` } } } })
      expect(r.status).toBe(201)
    }
    const seen: Array<string> = []
    let next: string | null = "/api/v1/accounts?page%5Bsize%5D=33"
    while (next) {
      const page = await server.call("GET", next)
      expect(validatePersona("GET", "/accounts", 200, page.json)).toBeNull()
      seen.push(...page.json.data.map((a: { id: string }) => a.id))
      next = page.json.links.next
    }
    expect(seen.length).toBeGreaterThanOrEqual(250)
    expect(new Set(seen).size).toBe(seen.length)
  })
})

describe("bad input: 4xx with an error body, never a 500 or a stack trace", () => {
  const cases: Array<[string, string, string, Parameters<typeof server.call>[2], number, string]> = [
    ["malformed JSON", "POST", "/run-action", { raw: '{"data":', headers: { "content-type": "application/json" } }, 400, "not valid JSON"],
    ["wrong content type", "POST", "/run-action", { raw: "status=activated", headers: { "content-type": "application/x-www-form-urlencoded" } }, 415, "the request body must be JSON"],
    ["unknown body field", "POST", "/run-action", { body: { data: { "account-action-id": "x", colour: "red" } } }, 400, "colour"],
    ["wrong field type", "POST", "/run-action", { body: { data: { "account-action-id": 42 } } }, 400, "data.account-action-id"],
    ["missing body", "POST", "/run-action", { headers: { "content-type": "application/json" } }, 400, ""],
    ["array body", "POST", "/run-action", { body: [1, 2, 3] }, 400, ""],
    ["unknown action", "POST", "/run-action", { body: { data: { "account-action-id": "accac_000000000000000000000000" } } }, 404, "not found"],
    ["lone surrogate in a tag", "POST", "/add-tag", { raw: '{"meta":{"tag-name":"bad\\ud800tag"}}', headers: { "content-type": "application/json" } }, 422, ""],
    ["control character in a tag", "POST", "/add-tag", { body: { meta: { "tag-name": "a\u0000b" } } }, 422, "control characters"],
    ["emoji tag is fine", "POST", "/add-tag", { body: { meta: { "tag-name": "🚀 launch" } } }, 200, ""]
  ]
  it.each(cases)("%s", async (_name, method, suffix, options, status, message) => {
    const response = await server.call(method, `/api/v1/accounts/${jane}${suffix}`, options)
    expect(response.status, response.text).toBe(status)
    if (status >= 400) {
      expect(response.json.errors[0].title).toBeTruthy()
      if (message) expect(JSON.stringify(response.json)).toContain(message)
    }
    expect(response.text).not.toMatch(/\bat .*\.(m?js|ts):\d+/)
    expect(response.headers.get("request-id")).toMatch(/^req_/)
  })

  it.each([
    ["/api/v1/accounts/act_1", 400, "accountId"],
    ["/api/v1/accounts?page%5Bsize%5D=0", 400, "page[size] must be an integer from 1 to 100"],
    ["/api/v1/accounts?page%5Bsize%5D=101", 400, "page[size] must be an integer from 1 to 100"],
    ["/api/v1/accounts?page%5Bsize%5D=abc", 400, "page[size]"],
    ["/api/v1/accounts?page%5Bafter%5D=act_000000000000000000000000", 400, "page[after]"],
    ["/api/v1/nothing-here", 404, "no route"],
    ["/api/v1/workflow-runs/wfr_000000000000000000000000", 404, "not found"]
  ])("GET %s → %i", async (url, status, message) => {
    const response = await server.call("GET", url)
    expect(response.status, response.text).toBe(status)
    expect(JSON.stringify(response.json)).toContain(message)
  })

  it("checks a path's ids after the key and before the body, as the path's own schema did", async () => {
    const bad = "/api/v1/accounts/act_1/add-tag"
    expect((await server.call("POST", bad, { key: null, body: { meta: { "tag-name": 5 } } })).status).toBe(401)
    const both = await server.call("POST", bad, { body: { meta: { "tag-name": 5 } } })
    expect(both.status, both.text).toBe(400)
    expect(both.json.errors[0].details).toBe('accountId: expected an account id: "act_" followed by 24–28 letters or digits, got "act_1"')
  })

  it("names each bad query parameter once, without Schema's second 'Expected undefined' issue", async () => {
    const twice = await server.call("GET", "/api/v1/accounts?page%5Bsize%5D=1&page%5Bsize%5D=2")
    expect(twice.status).toBe(400)
    expect(twice.json.errors[0].details).toBe('page[size]: expected a string, got ["1","2"]')
    const negative = await server.call("GET", "/api/v1/accounts?page%5Bsize%5D=-1")
    expect(negative.json.errors[0].details).toBe("page[size]: page[size] must be an integer from 1 to 100")
  })

  it("refuses a body over the limit with 413, before reading it all", async () => {
    // node:http rather than fetch: the server answers before the upload ends, which fetch reports as a failure.
    const { request } = await import("node:http")
    const body = JSON.stringify({ meta: { "tag-name": "x".repeat(200_000) } })
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${server.base}/api/v1/accounts/${jane}/add-tag`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.admin}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) }
      }, (res) => {
        let text = ""
        res.on("data", (chunk) => (text += chunk)).on("end", () => resolve({ status: res.statusCode ?? 0, text }))
      })
      req.on("error", (e) => (e as NodeJS.ErrnoException).code === "EPIPE" || (e as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(e))
      req.end(body)
    })
    expect(status).toBe(413)
    expect(JSON.parse(text).errors[0].title).toBe("Payload Too Large")
    const jane2 = await server.call("GET", `/api/v1/accounts/${jane}`)
    expect(jane2.json.data.attributes.tags.some((t: string) => t.startsWith("xxx"))).toBe(false)
  })

  it("serves health, readiness, the OpenAPI document and docs without a key", async () => {
    expect((await server.call("GET", "/healthz", { key: null })).json).toEqual({ status: "ok" })
    expect((await server.call("GET", "/readyz", { key: null })).json).toEqual({ status: "ready" })
    const openapi = (await server.call("GET", "/openapi.json", { key: null })).json
    expect(openapi.paths["/api/v1/accounts/{accountId}/run-action"].post).toBeDefined()
    expect((await server.call("GET", "/docs", { key: null })).status).toBe(200)
  })
})
