/**
 * Events as Persona's `event` resource: every kind acct writes, validated against Persona's
 * `event` schema and, where the spec has one, strictly against the webhook schema for its name;
 * acct's own names against the `webhooks` of acct's OpenAPI document.
 */
import { applyBlocklist, toEventResource } from "@acct/api"
import { Events, Webhooks } from "@acct/core"
import { Ajv2020 } from "ajv/dist/2020.js"
import addFormats from "ajv-formats"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer, validatePersona, validatePersonaWebhook } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

/** Validates a delivery of acct's own event `name` against the `webhooks` of acct's OpenAPI document. */
const validateAcctWebhook = (openapi: { webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: object }> } } }> }, name: string, body: unknown) => {
  const entry = openapi.webhooks[name] ?? openapi.webhooks["{catalog event}"]!
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats.default(ajv)
  const validate = ajv.compile(entry.post.requestBody.content["application/json"]!.schema)
  return validate(body) ? null : ajv.errorsText(validate.errors)
}

const storedEvents = () => server.runtime.runPromise(Effect.flatMap(Events, (events) => events.list({ size: 100 })))

describe("events (Persona's event resource)", () => {
  it("serializes every kind of event as Persona's event and webhook schemas say", async () => {
    const seeded = new Set((await storedEvents()).items.map((e) => e.id))
    const types = (await server.call("GET", "/api/v1/account-types")).json.data
    const actions = (await server.call("GET", "/api/v1/account-actions")).json.data as Array<{ id: string; attributes: { name: string } }>
    const suspend = actions.find((a) => a.attributes.name === "Suspend for review")!.id
    const created = await server.call("POST", "/api/v1/accounts", { body: { data: { attributes: { "account-type-id": types[0].id, "reference-id": "ev-http", tags: ["a"], fields: { phone_number: "555-0100" } } } } })
    const id = created.json.data.id
    await server.call("PATCH", `/api/v1/accounts/${id}`, { body: { data: { attributes: { fields: { phone_number: "555-0101" } } } } })
    await server.call("POST", `/api/v1/accounts/${id}/set-tags`, { body: { meta: { "tag-name": ["b", "c"] } } })
    await server.call("POST", `/api/v1/accounts/${id}/run-action`, { body: { data: { "account-action-id": suspend, parameters: { reason: "review" } } } })
    const dup = await server.call("POST", "/api/v1/accounts", { body: { data: { attributes: { "account-type-id": types[0].id, tags: ["dup"] } } } })
    await server.call("POST", `/api/v1/accounts/${id}/consolidate`, { body: { meta: { "source-account-ids": [dup.json.data.id] } } })
    await server.call("DELETE", `/api/v1/accounts/${id}`)

    const openapi = (await server.call("GET", "/openapi.json")).json
    const seen = new Set<string>()
    for (const event of (await storedEvents()).items.filter((e) => !seeded.has(e.id))) {
      const body = { data: toEventResource(event) }
      seen.add(event.name)
      expect(validatePersona("GET", "/events/{event-id}", 200, body), event.name).toBeNull()
      // Persona's per-event webhook schemas declare a context only for some events (updated-tags,
      // relations); acct says what changed for every event: the rest must match exactly.
      const strict = validatePersonaWebhook(event.name, body)
      if (strict !== undefined) {
        const { context: _context, ...attributes } = body.data.attributes
        expect(strict === null || validatePersonaWebhook(event.name, { data: { ...body.data, attributes } }) === null, `${event.name}: ${strict}`).toBe(true)
        // A run's event passes as it is: acct's account of the run rides in the open context.
        if (event.object._tag === "workflow-run") expect(strict, event.name).toBeNull()
      } else {
        // acct's own names (the catalog's account.suspended) are documented in acct's OpenAPI.
        expect(validateAcctWebhook(openapi, event.name, body), event.name).toBeNull()
      }
      expect(body.data.id).toMatch(/^evt_/)
      expect(body.data.attributes.context).toMatchObject({ actor: { kind: "api-key" }, channel: "http", "request-id": expect.stringMatching(/^req_/) })
    }
    expect([...seen].sort()).toEqual([
      "account.archived",
      "account.consolidated",
      "account.consolidated-with",
      "account.created",
      "account.redacted",
      "account.status-updated",
      "account.suspended",
      "account.tag-added",
      "account.tag-removed",
      "account.updated-fields",
      "account.updated-tags",
      "workflow-run.created"
    ])
    const tags = (await storedEvents()).items.find((e) => e.name === "account.updated-tags" && e.context.removedTags?.includes("a"))!
    expect(toEventResource(tags).attributes.context).toMatchObject({ "added-tags": ["b", "c"], "removed-tags": ["a"] })
  })

  it("serves GET /api/v1/events and /events/{id} as Persona's spec says: filters, pages, scopes", async () => {
    const jane = (await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0].id as string
    await server.call("POST", `/api/v1/accounts/${jane}/add-tag`, { body: { meta: { "tag-name": "listed" } } })
    const run = await server.call("POST", `/api/v1/accounts/${jane}/disable`)
    const runId = run.json.meta["workflow-run-id"]

    const all = await server.call("GET", "/api/v1/events?page%5Bsize%5D=3")
    expect(all.status).toBe(200)
    expect(validatePersona("GET", "/events", 200, all.json)).toBeNull()
    expect(all.json.data.map((e: { attributes: { name: string } }) => e.attributes.name)).toEqual(["account.status-updated", "workflow-run.created", "account.updated-tags"])
    expect(all.json.links.next).toMatch(/^\/api\/v1\/events\?page%5Bsize%5D=3&page%5Bafter%5D=evt_/)
    const next = await server.call("GET", all.json.links.next)
    expect(validatePersona("GET", "/events", 200, next.json)).toBeNull()
    expect(next.json.data[0].attributes.name).toBe("account.tag-added")
    const back = await server.call("GET", next.json.links.prev)
    expect(back.json.data.map((e: { id: string }) => e.id)).toEqual(all.json.data.map((e: { id: string }) => e.id))

    const byName = await server.call("GET", `/api/v1/events?filter%5Bname%5D=account.tag-added,account.status-updated&filter%5Bobject-id%5D=${jane}`)
    expect(byName.json.data.map((e: { attributes: { name: string; context: Record<string, unknown> } }) => [e.attributes.name, e.attributes.context["tag-name"] ?? e.attributes.context["status-after"]]).slice(0, 2)).toEqual([
      ["account.status-updated", "disabled"],
      ["account.tag-added", "listed"]
    ])
    const byRun = await server.call("GET", `/api/v1/events?filter%5Bobject-id%5D=${runId}`)
    expect(byRun.json.data).toHaveLength(1)
    expect(byRun.json.data[0].attributes.payload.data).toMatchObject({ type: "workflow-run", id: runId })
    const byAccount = await server.call("GET", `/api/v1/events?filter%5Baccount-id%5D=${jane}&filter%5Bobject-type%5D=workflow-run`)
    expect(byAccount.json.data.map((e: { attributes: { payload: { data: { id: string } } } }) => e.attributes.payload.data.id)).toEqual([runId])
    const late = await server.call("GET", `/api/v1/events?filter%5Bcreated-at-start%5D=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)
    expect(late.json.data).toEqual([])

    const one = await server.call("GET", `/api/v1/events/${all.json.data[0].id}`)
    expect(one.status).toBe(200)
    expect(validatePersona("GET", "/events/{event-id}", 200, one.json)).toBeNull()
    expect(one.json.data).toEqual(all.json.data[0])
    const missing = await server.call("GET", "/api/v1/events/evt_000000000000000000000000")
    expect(missing.status).toBe(404)
    expect(validatePersona("GET", "/events/{event-id}", 404, missing.json)).toBeNull()

    const badFilter = await server.call("GET", "/api/v1/events?filter%5Baccount-id%5D=abc-123")
    expect(badFilter.status).toBe(400)
    expect(validatePersona("GET", "/events", 400, badFilter.json)).toBeNull()
    expect(badFilter.json.errors[0].details).toContain("filter[account-id]: expected an account id")
    const badTime = await server.call("GET", "/api/v1/events?filter%5Bcreated-at-start%5D=yesterday")
    expect(badTime.status).toBe(400)
    expect(badTime.json.errors[0].details).toContain("filter[created-at-start]: expected an ISO 8601 time")

    // Reading events needs what reading accounts needs.
    const reader = (await server.key(["account.read"])).secret
    expect((await server.call("GET", "/api/v1/events", { key: reader })).status).toBe(200)
    const writer = (await server.key(["account.write"])).secret
    const denied = await server.call("GET", `/api/v1/events/${all.json.data[0].id}`, { key: writer })
    expect(denied.status).toBe(403)
    expect(validatePersona("GET", "/events/{event-id}", 403, denied.json)).toBeNull()
    expect(denied.json.errors[0].details).toContain("may not read events: missing scope account.read")
    expect((await server.call("GET", "/api/v1/events", { key: null })).status).toBe(401)
  })

  it("keeps a run's parameters out of a delivery when the blocklist names them", async () => {
    const run = (await storedEvents()).items.find((e) => e.object._tag === "workflow-run" && Object.keys(e.object.value.parameters).includes("reason"))!
    const body = applyBlocklist({ data: toEventResource(run) }, ["reason"])
    expect(body.data.attributes.context["workflow-run"]).toMatchObject({ "action-name": "Suspend for review", parameters: {} })
    expect(validatePersonaWebhook("workflow-run.created", body)).toBeNull()
  })

  it("validates acct's webhook.disabled against acct's OpenAPI document, and refuses what does not match it", async () => {
    const openapi = (await server.call("GET", "/openapi.json")).json
    const made = await server.runtime.runPromise(Effect.flatMap(Webhooks, (w) => w.create({ name: "gone", url: "https://93.184.215.14/", enabledEvents: ["*"] })))
    await server.runtime.runPromise(Effect.flatMap(Webhooks, (w) => Effect.zipRight(w.setStatus(made.webhook.id, "enabled"), w.setStatus(made.webhook.id, "disabled", "the receiver answered 410 Gone"))))
    const disabled = (await server.runtime.runPromise(Effect.flatMap(Events, (e) => e.list({ names: ["webhook.disabled"] })))).items[0]!
    const body = { data: toEventResource(disabled) }
    expect(validatePersonaWebhook("webhook.disabled", body)).toBeUndefined()
    expect(validateAcctWebhook(openapi, "webhook.disabled", body)).toBeNull()
    expect(validateAcctWebhook(openapi, "webhook.disabled", { data: { ...body.data, attributes: { ...body.data.attributes, name: "account.created" } } })).toContain("must be equal to constant")
  })

  it("documents the events API in the OpenAPI document", async () => {
    const openapi = (await server.call("GET", "/openapi.json")).json
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(["/api/v1/events", "/api/v1/events/{eventId}", "/api/v1/events/{eventId}/replay", "/api/v1/events/replay"]))
    expect(openapi.paths["/api/v1/events/replay"].post.summary).toContain("(acct extension)")
    expect(Object.keys(openapi.webhooks)).toEqual(["webhook.disabled", "{catalog event}"])
    const parameters = openapi.paths["/api/v1/events"].get.parameters.map((p: { name: string }) => p.name)
    expect(parameters).toEqual(expect.arrayContaining(["filter[name]", "filter[object-id]", "filter[id]", "filter[account-id]", "filter[created-at-start]", "page[size]"]))
  })
})
