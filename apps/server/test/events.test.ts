/**
 * Events as Persona's `event` resource: every kind acct writes, validated against Persona's
 * `event` schema and, where the spec has one, the webhook schema for its name.
 */
import { toEventResource } from "@acct/api"
import { Events } from "@acct/core"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer, validatePersona, validatePersonaWebhook } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

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

    const seen = new Set<string>()
    for (const event of (await storedEvents()).items.filter((e) => !seeded.has(e.id))) {
      const body = { data: toEventResource(event) }
      seen.add(event.name)
      expect(validatePersona("GET", "/events/{event-id}", 200, body), event.name).toBeNull()
      // acct's workflow runs carry more than Persona's (the account, action, statuses, actor).
      // Persona's per-event webhook schemas declare a context only for some events (updated-tags,
      // relations); acct says what changed for every event: the rest must match exactly.
      // The catalog's own names (account.suspended) have no Persona schema.
      if (event.object._tag === "account" && event.name !== "account.suspended") {
        const strict = validatePersonaWebhook(event.name, body)
        const { context: _context, ...attributes } = body.data.attributes
        expect(strict === null || validatePersonaWebhook(event.name, { data: { ...body.data, attributes } }) === null, `${event.name}: ${strict}`).toBe(true)
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
})
