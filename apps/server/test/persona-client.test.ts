/**
 * A client written against Persona's documentation, not acct's: its types are generated from
 * Persona's spec by openapi-typescript (persona-client/generate.mjs) and its requests are made
 * by openapi-fetch (query serialization, deepObject `fields[…]`, headers as that library does
 * them). It drives every Persona endpoint acct implements, replays the spec's own request
 * examples, and validates each answer against the spec's schema.
 */
import createClient from "openapi-fetch"
import { readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { paths } from "./persona-client/persona-api.js"
import { generate } from "./persona-client/generate.mjs"
import { startServer, validatePersona } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
let persona: ReturnType<typeof createClient<paths>>
let typeId = ""
let setStatus = ""

const spec = JSON.parse(readFileSync(new URL("../../../specs/persona-api-2025-12-08.openapi.json", import.meta.url), "utf8"))

/** The request examples the spec gives for an operation, resolved. */
const examples = (path: string, method: string): ReadonlyArray<[string, unknown]> => {
  const content = spec.paths[path][method].requestBody?.content?.["application/json"]
  return Object.entries<{ $ref?: string; value?: unknown }>(content?.examples ?? {}).map(([name, example]) => {
    const resolved = example.$ref ? spec.components.examples[example.$ref.split("/").at(-1)!] : example
    return [name, resolved.value]
  })
}

/** An example with its ids (made for Persona's own data) replaced by ids that exist here. */
const withIds = (value: unknown, ids: { readonly act: ReadonlyArray<string>; readonly accac: string }): unknown => {
  let account = 0
  const walk = (node: unknown): unknown => {
    if (typeof node === "string" && node.startsWith("act_")) return ids.act[account++ % ids.act.length]
    if (typeof node === "string" && node.startsWith("accac_")) return ids.accac
    if (Array.isArray(node)) return node.map(walk)
    if (typeof node === "object" && node !== null) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]))
    return node
  }
  return walk(value)
}

beforeAll(async () => {
  await generate()
  server = await startServer()
  persona = createClient<paths>({ baseUrl: `${server.base}/api/v1`, headers: { authorization: `Bearer ${server.admin}`, "persona-version": "2025-12-08" } })
  const jane = await persona.GET("/accounts", { params: { query: { filter: { "reference-id": "abc-123" } } } })
  typeId = jane.data!.data![0]!.relationships!["account-type"]!.data!.id!
  setStatus = (await server.demo()).setStatus
})
afterAll(() => server.close())

const valid = (method: string, path: string, answer: { readonly response: Response; readonly data?: unknown; readonly error?: unknown }, status: number) => {
  expect(answer.response.status, JSON.stringify(answer.error ?? null)).toBe(status)
  expect(validatePersona(method, path, status, answer.data ?? answer.error)).toBeNull()
  expect(answer.response.headers.get("persona-version")).toBe("2025-12-08")
}

describe("a client generated from Persona's spec (openapi-typescript + openapi-fetch)", () => {
  it("drives every implemented accounts endpoint", async () => {
    const created = await persona.POST("/accounts", {
      params: { query: { include: "account-type" } },
      body: { data: { attributes: { "reference-id": "gen-1", "name-first": "Grace", "name-last": "Hopper", "email-address": "grace@example.com", tags: ["navy"] } } }
    })
    valid("POST", "/accounts", created, 201)
    const id = created.data!.data!.id!
    expect(created.data!.included?.[0]).toMatchObject({ type: "account-type", id: typeId })

    const upserted = await persona.POST("/accounts", { body: { data: { attributes: { "reference-id": "gen-1", "phone-number": "555-0100" } }, meta: { "upsert-by": "reference-id" } } })
    valid("POST", "/accounts", upserted, 200)
    expect(upserted.data!.data!.id).toBe(id)

    const listed = await persona.GET("/accounts", { params: { query: { page: { size: 2 }, filter: { "reference-id": "gen-1,abc-123" } } } })
    valid("GET", "/accounts", listed, 200)
    expect(listed.data!.data!.map((a) => a.attributes!["reference-id"]).sort()).toEqual(["abc-123", "gen-1"])

    const sparse = await persona.GET("/accounts/{account-id}", { params: { path: { "account-id": id }, query: { fields: { account: "tags,account-status" } } } })
    valid("GET", "/accounts/{account-id}", sparse, 200)
    expect(Object.keys(sparse.data!.data!.attributes!).sort()).toEqual(["account-status", "tags"])

    const patched = await persona.PATCH("/accounts/{account-id}", {
      params: { path: { "account-id": id } },
      body: { data: { attributes: { "account-status": "activated", tags: ["navy", "admiral"], "address-city": "Arlington" } } }
    })
    valid("PATCH", "/accounts/{account-id}", patched, 200)
    expect(patched.data!.data!.attributes!.tags).toEqual(["navy", "admiral"])

    valid("POST", "/accounts/{account-id}/add-tag", await persona.POST("/accounts/{account-id}/add-tag", { params: { path: { "account-id": id } }, body: { meta: { "tag-name": "cobol" } } }), 200)
    valid("POST", "/accounts/{account-id}/remove-tag", await persona.POST("/accounts/{account-id}/remove-tag", { params: { path: { "account-id": id } }, body: { meta: { "tag-name": "cobol" } } }), 200)
    valid("POST", "/accounts/{account-id}/set-tags", await persona.POST("/accounts/{account-id}/set-tags", { params: { path: { "account-id": id } }, body: { meta: { "tag-name": ["navy"] } } }), 200)

    const source = await persona.POST("/accounts", { body: { data: { attributes: { "account-type-id": typeId, tags: ["dup"] } } } })
    const merged = await persona.POST("/accounts/{account-id}/consolidate", { params: { path: { "account-id": id } }, body: { meta: { "source-account-ids": [source.data!.data!.id!] } } })
    valid("POST", "/accounts/{account-id}/consolidate", merged, 202)

    const run = await persona.POST("/accounts/{account-id}/run-action", { params: { path: { "account-id": id } }, body: { data: { "account-action-id": setStatus, parameters: { status: "deactivated" } } } })
    valid("POST", "/accounts/{account-id}/run-action", run, 200)

    valid("GET", "/account-types/{account-type-id}", await persona.GET("/account-types/{account-type-id}", { params: { path: { "account-type-id": typeId } } }), 200)
    valid("DELETE", "/accounts/{account-id}", await persona.DELETE("/accounts/{account-id}", { params: { path: { "account-id": id } } }), 200)

    // Errors in the statuses the spec documents for the operation, in its error schema.
    valid("GET", "/accounts/{account-id}", await persona.GET("/accounts/{account-id}", { params: { path: { "account-id": "act_000000000000000000000000" } } }), 404)
    valid("POST", "/accounts", await persona.POST("/accounts", { body: { data: { attributes: { "account-type-id": "acttp_000000000000000000000000" } } } }), 422)
    valid("GET", "/accounts", await persona.GET("/accounts", { params: { query: { page: { size: 0 } } } }), 400)
  })

  it("replays the spec's own request examples", async () => {
    const accounts = await Promise.all([1, 2, 3].map(() => persona.POST("/accounts", { body: { data: { attributes: {} } } })))
    const [target, ...sources] = accounts.map((a) => a.data!.data!.id!)
    const ids = { act: sources, accac: setStatus }
    const operations = [
      ["/accounts/{account-id}/add-tag", 200],
      ["/accounts/{account-id}/remove-tag", 200],
      ["/accounts/{account-id}/set-tags", 200],
      ["/accounts/{account-id}/run-action", 200],
      ["/accounts/{account-id}/consolidate", 202]
    ] as const
    let replayed = 0
    for (const [path, status] of operations) {
      for (const [name, example] of examples(path, "post")) {
        // The client's types are the spec's; an example is the spec's too, just read from JSON.
        const answer = await persona.POST(path as "/accounts/{account-id}/add-tag", { params: { path: { "account-id": target! } }, body: withIds(example, ids) as never })
        expect(answer.response.status, `${path} ${name}: ${JSON.stringify(answer.error ?? null)}`).toBe(status)
        expect(validatePersona("POST", path, status, answer.data)).toBeNull()
        replayed++
      }
    }
    expect(replayed).toBe(5)
  })
})
