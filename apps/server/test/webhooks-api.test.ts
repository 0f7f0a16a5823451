import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { conformsOn, startServer, validatePersona } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>

beforeAll(async () => {
  process.env.ACCT_WEBHOOK_ALLOWED_HOSTS = "127.0.0.1"
  server = await startServer()
})
afterAll(() => server.close())

const conforms = conformsOn(() => server)

const create = (attributes: Record<string, unknown>, options: Parameters<typeof server.call>[2] = {}) =>
  server.call("POST", "/api/v1/webhooks", { ...options, body: { data: { attributes } } })

describe("Persona webhooks API (validated against Persona's OpenAPI schemas)", () => {
  it("creates a disabled webhook showing its secret once, then lists, gets, updates, enables, disables, clones and archives", async () => {
    const made = await conforms("POST", "/api/v1/webhooks", "/webhooks", 201, {
      body: { data: { attributes: { name: "CRM", url: "http://127.0.0.1:9/hook", "enabled-events": ["account.created", "*"], "api-key-inflection": "camel", "api-attributes-blocklist": ["name-last"] } } }
    })
    const id = made.data.id
    expect(id).toMatch(/^wbh_[A-Za-z0-9]{24}$/)
    expect(made.data.attributes).toMatchObject({ status: "disabled", "api-key-inflection": "camel", "enabled-events": ["account.created", "*"], "api-attributes-blocklist": ["name-last"] })
    expect(made.data.attributes.secret).toMatch(/^wbhsec_[A-Za-z0-9]{40}$/)
    expect(made.data.attributes.secrets).toEqual([{ value: made.data.attributes.secret, "expires-at": null }])

    const got = await conforms("GET", `/api/v1/webhooks/${id}`, "/webhooks/{webhook-id}", 200)
    expect(got.data.attributes.secret).toBeUndefined()
    expect(JSON.stringify(got)).not.toContain("wbhsec_")
    const list = await conforms("GET", "/api/v1/webhooks?page%5Bsize%5D=1", "/webhooks", 200)
    expect(list.data.map((w: { id: string }) => w.id)).toEqual([id])

    const updated = await conforms("PATCH", `/api/v1/webhooks/${id}`, "/webhooks/{webhook-id}", 200, { body: { data: { attributes: { description: "to the CRM", "enabled-events": ["account.tag-added"] } } } })
    expect(updated.data.attributes).toMatchObject({ description: "to the CRM", "enabled-events": ["account.tag-added"], name: "CRM" })
    expect((await conforms("POST", `/api/v1/webhooks/${id}/enable`, "/webhooks/{webhook-id}/enable", 200)).data.attributes.status).toBe("enabled")
    expect((await conforms("POST", `/api/v1/webhooks/${id}/disable`, "/webhooks/{webhook-id}/disable", 200)).data.attributes.status).toBe("disabled")

    const clone = await conforms("POST", `/api/v1/webhooks/${id}/clone`, "/webhooks/{webhook-id}/clone", 200)
    expect(clone.data.id).not.toBe(id)
    expect(clone.data.attributes).toMatchObject({ status: "disabled", description: "to the CRM", "api-key-inflection": "camel" })
    expect(clone.data.attributes.secret).not.toBe(made.data.attributes.secret)

    expect((await conforms("POST", `/api/v1/webhooks/${id}/archive`, "/webhooks/{webhook-id}/archive", 200)).data.attributes.status).toBe("archived")
    const refused = await conforms("POST", `/api/v1/webhooks/${id}/enable`, "/webhooks/{webhook-id}/enable", 409)
    expect(refused.errors[0].details).toContain("archived")
  })

  it("rotates the secret: a new one shown once", async () => {
    const made = (await create({ name: "r", url: "http://127.0.0.1:9/", "enabled-events": ["*"] })).json
    const rotated = await conforms("POST", `/api/v1/webhooks/${made.data.id}/rotate-secret`, "/webhooks/{webhook-id}/rotate-secret", 200, { body: { meta: { "expires-in-seconds": 60 } } })
    expect(rotated.data.attributes.secret).toMatch(/^wbhsec_/)
    expect(rotated.data.attributes.secret).not.toBe(made.data.attributes.secret)
    const bad = await server.call("POST", `/api/v1/webhooks/${made.data.id}/rotate-secret`, { body: { meta: { "expires-in-seconds": -1 } } })
    expect(bad.status).toBe(400)
    expect(bad.json.errors[0].details).toContain("meta.expires-in-seconds: expected a whole number of seconds")
  })

  it("refuses URLs the SSRF guard refuses and bad settings, in plain words", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url: "http://example.com/hook" }, "data.attributes.url: must use https"],
      [{ url: "https://10.0.0.1/hook" }, "a private address"],
      [{ url: "https://169.254.169.254/latest/meta-data" }, "a link-local address"],
      [{ url: "https://[::1]/" }, "a loopback address"],
      [{ url: "https://localhost/" }, "a loopback address"],
      [{ url: "https://user:pw@example.com/" }, "user name or password"],
      [{ "enabled-events": [] }, "data.attributes.enabled-events: name at least one event"],
      // Named as the body has it, entry and all (was "enabled-events: …", without the entry).
      [{ "enabled-events": ["account.created", "Not An Event"] }, 'data.attributes.enabled-events[1]: "Not An Event" is not an event name'],
      [{ name: " " }, "data.attributes.name: expected 1–200 characters"],
      [{ "api-attributes-blocklist": ["ok", ""] }, "data.attributes.api-attributes-blocklist[1]: expected 1–200 characters"]
    ]
    for (const [attributes, message] of cases) {
      const response = await create({ name: "x", url: "https://example.com/", "enabled-events": ["*"], ...attributes })
      expect([attributes, response.status]).toEqual([attributes, 400])
      expect(validatePersona("POST", "/webhooks", 400, response.json)).toBeNull()
      expect(response.json.errors[0].details).toContain(message)
    }
    const inflection = await create({ name: "x", url: "https://example.com/", "enabled-events": ["*"], "api-key-inflection": "pascal" })
    expect(inflection.status).toBe(400)
  })

  it("needs webhook.read / webhook.write", async () => {
    const reader = (await server.key(["webhook.read"])).secret
    const accounts = (await server.key(["account.write", "account.read"])).secret
    const denied = await conforms("GET", "/api/v1/webhooks", "/webhooks", 403, { key: accounts })
    expect(denied.errors[0].details).toContain("missing scope webhook.read")
    await conforms("GET", "/api/v1/webhooks", "/webhooks", 200, { key: reader })
    const noWrite = await create({ name: "x", url: "http://127.0.0.1:9/", "enabled-events": ["*"] }, { key: reader })
    expect(noWrite.status).toBe(403)
    expect(noWrite.json.errors[0].details).toContain("missing scope webhook.write")
    await conforms("GET", "/api/v1/webhooks/wbh_000000000000000000000000", "/webhooks/{webhook-id}", 404)
  })

  it("replays one event or every event since a time (acct extension), with webhook.write, refusing bad input in words", async () => {
    const made = (await create({ name: "replayed", url: "http://127.0.0.1:9/", "enabled-events": ["*"] })).json
    await server.call("POST", `/api/v1/webhooks/${made.data.id}/enable`)
    const jane = (await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0].id as string
    const since = new Date(Date.now() - 1000).toISOString()
    await server.call("POST", `/api/v1/accounts/${jane}/add-tag`, { body: { meta: { "tag-name": "replay-me" } } })
    const [event] = (await server.call("GET", "/api/v1/events?filter%5Bname%5D=account.tag-added&page%5Bsize%5D=1")).json.data
    const one = await server.call("POST", `/api/v1/events/${event.id}/replay`, { body: { meta: { "webhook-id": made.data.id } } })
    expect(one.status, one.text).toBe(202)
    expect(one.json).toEqual({ meta: { events: 1, deliveries: 1 } })
    const all = await server.call("POST", "/api/v1/events/replay", { body: { meta: { "created-at-start": since } } })
    expect(all.status, all.text).toBe(202)
    expect(all.json.meta.events).toBeGreaterThanOrEqual(2)
    const attempts = await server.call("GET", `/api/v1/webhooks/${made.data.id}/attempts`)
    expect(attempts.status).toBe(200)

    const badTime = await server.call("POST", "/api/v1/events/replay", { body: { meta: { "created-at-start": "yesterday" } } })
    expect(badTime.status).toBe(400)
    expect(badTime.json.errors[0].details).toContain("meta.created-at-start: expected an ISO 8601 time")
    const missing = await server.call("POST", "/api/v1/events/evt_000000000000000000000000/replay", { body: {} })
    expect(missing.status).toBe(404)
    const reader = (await server.key(["webhook.read", "account.read"])).secret
    const denied = await server.call("POST", `/api/v1/events/${event.id}/replay`, { key: reader, body: {} })
    expect(denied.status).toBe(403)
    expect(denied.json.errors[0].details).toContain("missing scope webhook.write")
  })
})
