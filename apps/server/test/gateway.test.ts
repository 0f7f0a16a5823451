/**
 * Gateway mode: acct in front of an upstream Persona (here another acct server speaking
 * Persona's format), adding its own keys, per-scope permissions and idempotency.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { createServer, request as forward } from "node:http"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { listenOnLoopback, personaProfile, type PersonaIds, personaShapedIds, startPersona, startSoftwareOne } from "./fake-upstreams.js"
import { startServer } from "./harness.js"

let upstream: Awaited<ReturnType<typeof startServer>>
let gateway: Awaited<ReturnType<typeof startServer>>
let janeId = ""

/** A gateway server on the one profile `name` of a fresh config file (its secret in `env`). */
const startGateway = (name: string, profile: string, env: Record<string, string>) => {
  const config = path.join(mkdtempSync(path.join(tmpdir(), "acct-gateway-")), "acct.config.yaml")
  writeFileSync(config, `profiles:\n  ${name}:\n    ${profile}\n`)
  Object.assign(process.env, { ACCT_CONFIG: config, ...env })
  return startServer({ profile: name })
}


/**
 * A fake Persona (with `ids`) and a gateway in front of it, for one describe block: `persona()`
 * and `gateway()` once its beforeAll has run.
 */
const personaGatewayFor = (name: string, ids?: PersonaIds) => {
  let persona: Awaited<ReturnType<typeof startPersona>> | undefined
  let gateway: Awaited<ReturnType<typeof startServer>> | undefined
  beforeAll(async () => {
    persona = await startPersona("persona-key", ids)
    gateway = await startGateway(name, personaProfile(persona, "ACCT_TEST_PERSONA_KEY").join("\n    "), { ACCT_TEST_PERSONA_KEY: "persona-key" })
  })
  afterAll(async () => {
    delete process.env.ACCT_CONFIG
    await gateway?.close()
    await persona?.close()
  })
  return { persona: () => persona!, gateway: () => gateway! }
}

beforeAll(async () => {
  upstream = await startServer()
  const action = (await upstream.call("GET", "/api/v1/account-actions")).json.data.find((a: { attributes: { name: string } }) => a.attributes.name === "Set status").id
  janeId = (await upstream.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0].id
  gateway = await startGateway(
    "upstream",
    `provider: persona\n    url: ${upstream.base}/api/v1\n    apiKeyEnv: ACCT_TEST_UPSTREAM_KEY\n    actions: { Set status: ${action} }\n    lifecycle:\n      disable: { action: Set status, parameters: { status: disabled } }`,
    { ACCT_TEST_UPSTREAM_KEY: upstream.admin }
  )
})
afterAll(async () => {
  delete process.env.ACCT_CONFIG
  await gateway?.close()
  await upstream?.close()
})

describe("gateway mode (ACCT_PROFILE)", () => {
  it("serves the upstream's accounts under its own keys, checking each key's scopes before passing a change on", async () => {
    const reader = (await gateway.key(["account.read"])).secret
    const operator = (await gateway.key(["account.read", "account.action"])).secret

    const read = await gateway.call("GET", `/api/v1/accounts/${janeId}`, { key: reader })
    expect(read.status).toBe(200)
    expect(read.json.data.attributes["reference-id"]).toBe("abc-123")
    // The upstream's own key does not work on the gateway: it has keys of its own.
    expect((await gateway.call("GET", `/api/v1/accounts/${janeId}`, { key: upstream.admin })).status).toBe(401)

    const refused = await gateway.call("POST", `/api/v1/accounts/${janeId}/disable`, { key: reader })
    expect(refused.status).toBe(403)
    expect(refused.json.errors[0].details).toContain("missing scope account.action")
    expect((await upstream.call("GET", `/api/v1/accounts/${janeId}`)).json.data.attributes["account-status"]).not.toBe("disabled")

    const disabled = await gateway.call("POST", `/api/v1/accounts/${janeId}/disable`, { key: operator, headers: { "idempotency-key": "gw-1" } })
    expect(disabled.status).toBe(200)
    expect(disabled.json.data.attributes["account-status"]).toBe("disabled")
    expect((await upstream.call("GET", `/api/v1/accounts/${janeId}`)).json.data.attributes["account-status"]).toBe("disabled")
    const replayed = await gateway.call("POST", `/api/v1/accounts/${janeId}/disable`, { key: operator, headers: { "idempotency-key": "gw-1" } })
    expect(replayed.headers.get("idempotent-replayed")).toBe("true")

    const unmapped = await gateway.call("POST", `/api/v1/accounts/${janeId}/enable`, { key: operator })
    expect(unmapped.status).toBe(400)
    expect(unmapped.json.errors[0].details).toContain("lifecycle.enable.action")
  })
})

/**
 * The fake SoftwareOne: acct's own SoftwareOne surface behind a proxy that drops Idempotency-Key,
 * as SoftwareOne's API has none (so a repeat reaches it as a new request).
 */
const withoutIdempotency = async (targetPort: number) => {
  const proxy = createServer((req, res) => {
    const { "idempotency-key": _dropped, ...headers } = req.headers
    const upstream = forward({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on("error", () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  return listenOnLoopback(proxy)
}

describe("gateway mode toward a SoftwareOne upstream (no idempotency of its own)", () => {
  let swoUpstream: Awaited<ReturnType<typeof startServer>>
  let swoFake: Awaited<ReturnType<typeof withoutIdempotency>>
  let swoGateway: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    swoUpstream = await startServer()
    swoFake = await withoutIdempotency(Number(new URL(swoUpstream.base).port))
    swoGateway = await startGateway("marketplace", `provider: softwareone\n    url: ${swoFake.url}\n    tokenEnv: ACCT_TEST_SWO_TOKEN`, { ACCT_TEST_SWO_TOKEN: swoUpstream.admin })
  })
  afterAll(async () => {
    delete process.env.ACCT_CONFIG
    await swoGateway?.close()
    await swoFake?.close()
    await swoUpstream?.close()
  })

  it("replays a retried keyed transition from its own record instead of sending it upstream again", async () => {
    const wei = (await swoUpstream.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=ghi-789")).json.data[0].id as string
    const operator = (await swoGateway.key(["account.read", "account.action"])).secret
    const transition = (operation: string, key: string) => swoGateway.call("POST", `/api/v1/accounts/${wei}/${operation}`, { key: operator, headers: { "idempotency-key": key } })
    const upstreamStatus = async () => (await swoUpstream.call("GET", `/v1/accounts/accounts/${wei}`)).json.status

    const first = await transition("enable", "swo-1")
    expect(first.status, first.text).toBe(200)
    expect(first.json.data.attributes["account-status"]).toBe("activated")
    expect(await upstreamStatus()).toBe("Active")

    // Sent upstream again, this enable would be a 400 "wrong state" from SoftwareOne.
    const again = await transition("enable", "swo-1")
    expect(again.status, again.text).toBe(200)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(again.json).toEqual(first.json)

    // The same key on another request is refused; a new key goes upstream.
    const other = await transition("disable", "swo-1")
    expect(other.status, other.text).toBe(422)
    expect(await upstreamStatus()).toBe("Active")
    const fresh = await transition("deactivate", "swo-2")
    expect(fresh.status, fresh.text).toBe(200)
    expect(await upstreamStatus()).toBe("Enabled")

    // A refusal is the key's answer too: repeated after the account changed, it is replayed, not asked again.
    const wrong = await transition("deactivate", "swo-3")
    expect(wrong.status, wrong.text).toBe(409)
    expect((await swoUpstream.call("POST", `/v1/accounts/accounts/${wei}/activate`)).status).toBe(200)
    const wrongAgain = await transition("deactivate", "swo-3")
    expect(wrongAgain.status, wrongAgain.text).toBe(409)
    expect(wrongAgain.json).toEqual(wrong.json)
    expect(await upstreamStatus()).toBe("Active")
  })
})

describe("gateway mode: SoftwareOne's surface toward SoftwareOne itself", () => {
  let marketplace: Awaited<ReturnType<typeof startSoftwareOne>>
  let swoGateway: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    marketplace = await startSoftwareOne("swo-token")
    swoGateway = await startGateway("swo", `provider: softwareone\n    url: ${marketplace.url}\n    tokenEnv: ACCT_TEST_SWO_REAL_TOKEN`, { ACCT_TEST_SWO_REAL_TOKEN: "swo-token" })
  })
  afterAll(async () => {
    delete process.env.ACCT_CONFIG
    await swoGateway?.close()
    await marketplace?.close()
  })

  it("answers reads and transitions in SoftwareOne's model, replays a keyed one without asking upstream again, and changes nothing upstream when it refuses", async () => {
    const reader = (await swoGateway.key(["account.read"])).secret
    const operator = (await swoGateway.key(["account.read", "account.action"])).secret
    const posts = () => marketplace.received.filter((r) => r.startsWith("POST"))
    const id = "ACC-1234-5678"

    const read = await swoGateway.call("GET", `/v1/accounts/accounts/${id}`, { key: reader })
    expect(read.status, read.text).toBe(200)
    expect(read.json).toMatchObject({ id, name: "Northwind Traders", externalId: "nw-1", type: "Vendor", status: "Active" })

    // Refused by the gateway (scope): nothing is sent upstream.
    const forbidden = await swoGateway.call("POST", `/v1/accounts/accounts/${id}/disable`, { key: reader })
    expect(forbidden.status, forbidden.text).toBe(403)
    expect(posts()).toEqual([])

    const disabled = await swoGateway.call("POST", `/v1/accounts/accounts/${id}/disable`, { key: operator, headers: { "idempotency-key": "swo-real-1" } })
    expect(disabled.status, disabled.text).toBe(200)
    expect(disabled.json).toMatchObject({ id, type: "Vendor", status: "Disabled", $meta: { accountStatus: "Disabled", accountType: "Vendor" } })
    expect(marketplace.statusOf(id)).toBe("Disabled")
    expect(posts()).toEqual([`POST /public/v1/accounts/accounts/${id}/disable`])

    // The same key again: the first answer, from the gateway's own record; SoftwareOne is not asked.
    const replayed = await swoGateway.call("POST", `/v1/accounts/accounts/${id}/disable`, { key: operator, headers: { "idempotency-key": "swo-real-1" } })
    expect(replayed.status, replayed.text).toBe(200)
    expect(replayed.json).toEqual(disabled.json)
    expect(posts()).toHaveLength(1)

    // Refused by SoftwareOne (wrong state): its reason, and the account stays as it was.
    const wrong = await swoGateway.call("POST", `/v1/accounts/accounts/${id}/activate`, { key: operator })
    expect(wrong.status, wrong.text).toBe(400)
    expect(wrong.json.detail).toContain("activate is not possible")
    expect(marketplace.statusOf(id)).toBe("Disabled")

    // enable without an external id leads to Enabled (SoftwareOne's rule), answered as such.
    const enabled = await swoGateway.call("POST", `/v1/accounts/accounts/ACC-2222-3333/disable`, { key: operator })
    expect(enabled.json).toMatchObject({ type: "Client", status: "Disabled" })
    const again = await swoGateway.call("POST", `/v1/accounts/accounts/ACC-2222-3333/enable`, { key: operator })
    expect(again.status, again.text).toBe(200)
    expect(again.json).toMatchObject({ id: "ACC-2222-3333", externalId: null, status: "Enabled" })
  })
})

describe("gateway mode: SoftwareOne's surface toward Persona itself", () => {
  const jane = "act_hpNqyAbEG4HeVjZoBRNCMKkA"
  const wei = "act_Vq7Bz2kRcMwX9sLpDfT4hYu1"
  const { persona, gateway: personaGateway } = personaGatewayFor("persona")

  it("reads the account's type from Persona and its lifecycle states from the profile, on both SoftwareOne prefixes", async () => {
    const reader = (await personaGateway().key(["account.read"])).secret
    const operator = (await personaGateway().key(["account.read", "account.action"])).secret

    const read = await personaGateway().call("GET", `/v1/accounts/accounts/${jane}`, { key: reader })
    expect(read.status, read.text).toBe(200)
    expect(read.json).toMatchObject({ id: jane, name: "Jane Doe", externalId: "abc-123", type: "Client", status: "Active", $meta: { accountStatus: "Approved", accountType: "User" } })
    expect(persona().received).toContain(`GET /api/v1/account-types/${persona().TYPE}`)

    const list = await personaGateway().call("GET", "/public/v1/accounts/accounts?limit=10", { key: reader })
    expect(list.status, list.text).toBe(200)
    expect(list.json.data.map((a: { id: string; status: string }) => [a.id, a.status])).toEqual([[jane, "Active"], [wei, "Enabled"]])

    const disabled = await personaGateway().call("POST", `/public/v1/accounts/accounts/${jane}/disable`, { key: operator })
    expect(disabled.status, disabled.text).toBe(200)
    expect(disabled.json).toMatchObject({ id: jane, status: "Disabled", $meta: { accountStatus: "Suspended" } })
    expect(persona().statusOf(jane)).toBe("Suspended")

    // From the wrong state: refused with the lifecycle's reason, and Persona runs nothing.
    const runs = () => persona().received.filter((r) => r.endsWith("/run-action")).length
    const ran = runs()
    const again = await personaGateway().call("POST", `/v1/accounts/accounts/${jane}/disable`, { key: operator })
    expect(again.status, again.text).toBe(400)
    expect(again.json.detail).toContain("disable applies to Active or Enabled accounts")
    expect(runs()).toBe(ran)
    // SoftwareOne's rules: activate needs an external id (Wei has none); enable goes ahead.
    const noExternalId = await personaGateway().call("POST", `/v1/accounts/accounts/${wei}/activate`, { key: operator })
    expect(noExternalId.status, noExternalId.text).toBe(400)
    expect(runs()).toBe(ran)
    const enabled = await personaGateway().call("POST", `/v1/accounts/accounts/${jane}/enable`, { key: operator })
    expect(enabled.json).toMatchObject({ id: jane, status: "Active", $meta: { accountStatus: "Approved" } })

    // The Persona surface reads the same type: acct's extension route and `include`.
    // One read of the type served every account and transition above (it is kept for a minute).
    expect(persona().received.filter((r) => r.startsWith("GET /api/v1/account-types/"))).toHaveLength(1)

    const type = await personaGateway().call("GET", `/api/v1/account-types/${persona().TYPE}`, { key: reader })
    expect(type.status, type.text).toBe(200)
    expect(type.json.data.attributes["field-schemas"].map((f: { key: string }) => f.key)).toEqual(["name_first", "birthdate", "score"])
    const included = await personaGateway().call("GET", `/api/v1/accounts/${wei}?include=account-type`, { key: reader })
    expect(included.status, included.text).toBe(200)
    expect(included.json.included[0]).toMatchObject({ type: "account-type", id: persona().TYPE, attributes: { name: "User" } })
  })

  it("says which profile setting is missing when the profile does not name the lifecycle states", async () => {
    const bare = await startGateway("persona-bare", `provider: persona\n    url: ${persona().url}\n    apiKeyEnv: ACCT_TEST_PERSONA_KEY`, { ACCT_TEST_PERSONA_KEY: "persona-key" })
    try {
      const read = await bare.call("GET", `/v1/accounts/accounts/${jane}`)
      expect(read.status, read.text).toBe(400)
      expect(read.json.detail).toContain("states: { active: …, enabled: …, disabled: … }")
    } finally {
      await bare.close()
    }
  })
})

describe("gateway mode toward a Persona whose ids are not shaped like acct's", () => {
  const { jane, wei } = personaShapedIds
  const { persona, gateway: personaGateway } = personaGatewayFor("persona-ids", personaShapedIds)

  it("answers a run Persona made even when its record is missing or has dates acct cannot read", async () => {
    for (const answer of ["dates acct cannot read", "not found"] as const) {
      persona().runs.answer = answer
      try {
        const ran = await personaGateway().call("POST", `/api/v1/accounts/${wei}/run-action`, { body: { data: { "account-action-id": persona().ACTION, parameters: { status: "Approved" } } } })
        expect(ran.status, `${answer}: ${ran.text}`).toBe(200)
        expect(ran.json.meta["workflow-run-id"]).toMatch(/^wfr_/)
        expect(persona().statusOf(wei)).toBe("Approved")
      } finally {
        persona().runs.answer = "as documented"
      }
    }
  })

  it("answers a change Persona made with 200 and Persona's ids, never a 500 after the fact", async () => {
    const tagged = await personaGateway().call("POST", `/api/v1/accounts/${wei}/add-tag`, { body: { meta: { "tag-name": "vip" } } })
    expect(persona().tagsOf(wei)).toEqual(["vip"])
    expect(tagged.status, tagged.text).toBe(200)
    expect(tagged.json.data).toMatchObject({ id: wei, attributes: { tags: ["vip"] }, relationships: { "account-type": { data: { id: persona().TYPE } } } })

    const tagJane = () => personaGateway().call("POST", `/api/v1/accounts/${jane}/add-tag`, { body: { meta: { "tag-name": "vip" } }, headers: { "idempotency-key": "ids-1" } })
    const janeTagged = await tagJane()
    expect(janeTagged.status, janeTagged.text).toBe(200)
    expect(janeTagged.json.data).toMatchObject({ id: jane, attributes: { tags: ["vip"] } })
    expect(persona().tagsOf(jane)).toEqual(["vip"])
    // The gateway's record of the key replays the answer with Persona's ids in it.
    const replayed = await tagJane()
    expect(replayed.status, replayed.text).toBe(200)
    expect(replayed.headers.get("idempotent-replayed")).toBe("true")
    expect(replayed.json).toEqual(janeTagged.json)

    const ran = await personaGateway().call("POST", `/api/v1/accounts/${jane}/run-action`, { body: { data: { "account-action-id": persona().ACTION, parameters: { status: "Suspended" } } } })
    expect(ran.status, ran.text).toBe(200)
    expect(ran.json.data).toMatchObject({ id: jane, attributes: { "account-status": "Suspended" } })
    expect(ran.json.meta["workflow-run-id"]).toMatch(/^wfr_ABC123-\d+$/)
    expect(persona().statusOf(jane)).toBe("Suspended")

    // A lifecycle operation reads the type, checks the state and runs the profile's action.
    const disabled = await personaGateway().call("POST", `/v1/accounts/accounts/${wei}/disable`)
    expect(disabled.status, disabled.text).toBe(200)
    expect(disabled.json).toMatchObject({ id: wei, status: "Disabled", $meta: { accountStatus: "Suspended" } })
    expect(persona().statusOf(wei)).toBe("Suspended")
    const enabled = await personaGateway().call("POST", `/api/v1/accounts/${jane}/enable`)
    expect(enabled.status, enabled.text).toBe(200)
    expect(enabled.json).toMatchObject({ data: { id: jane, attributes: { "account-status": "Approved" } }, meta: { "workflow-run-id": expect.stringMatching(/^wfr_ABC123-/) } })
  })

  it("serves reads naming Persona's ids, on both surfaces", async () => {
    const listed = await personaGateway().call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")
    expect(listed.status, listed.text).toBe(200)
    expect(listed.json.data.map((a: { id: string }) => a.id)).toEqual([jane])

    for (const id of [jane, wei]) {
      const read = await personaGateway().call("GET", `/api/v1/accounts/${id}?include=account-type`)
      expect(read.status, read.text).toBe(200)
      expect(read.json.data.id).toBe(id)
      expect(read.json.included[0]).toMatchObject({ type: "account-type", id: persona().TYPE })
      const swo = await personaGateway().call("GET", `/v1/accounts/accounts/${id}`)
      expect(swo.status, swo.text).toBe(200)
      expect(swo.json.id).toBe(id)
    }
    const type = await personaGateway().call("GET", `/api/v1/account-types/${persona().TYPE}`)
    expect(type.status, type.text).toBe(200)
    expect(type.json.data.id).toBe(persona().TYPE)

    // An id Persona does not know is Persona's to refuse: its 404, passed on.
    const unknown = await personaGateway().call("GET", "/api/v1/accounts/act_ABC123")
    expect(unknown.status, unknown.text).toBe(404)
  })
})
