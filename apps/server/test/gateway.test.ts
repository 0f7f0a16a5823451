/**
 * Gateway mode: acct in front of an upstream Persona (here another acct server speaking
 * Persona's format), adding its own keys, per-scope permissions and idempotency.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { createServer, request as forward } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
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
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve))
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => proxy.close(() => resolve())) }
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

/**
 * A SoftwareOne Marketplace as its spec describes it, not acct: accounts with SoftwareOne's own
 * types and states (no `$meta.accountStatus`), its lifecycle rules, problem details on a 400,
 * and a log of every request it received.
 */
const startSoftwareOne = async (token: string) => {
  const accounts = new Map<string, { id: string; name: string; externalId: string | null; type: string; status: string }>([
    ["ACC-1234-5678", { id: "ACC-1234-5678", name: "Northwind Traders", externalId: "nw-1", type: "Vendor", status: "Active" }],
    ["ACC-2222-3333", { id: "ACC-2222-3333", name: "Contoso", externalId: null, type: "Client", status: "Enabled" }]
  ])
  const received: Array<string> = []
  const wire = (a: NonNullable<ReturnType<typeof accounts.get>>) => ({
    ...a,
    href: `/accounts/accounts/${a.id}`,
    serviceLevel: "Elevated",
    website: null,
    audit: { created: { at: "2026-01-05T10:00:00.000Z", by: { id: "USR-0000-0001" } }, updated: { at: "2026-02-01T10:00:00.000Z" } }
  })
  const problem = (status: number, title: string, detail: string) => ({ type: "https://tools.ietf.org/html/rfc9110#section-15.5.1", title, status, detail, traceId: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", errors: {} })
  const server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`)
    const answer = (status: number, body: unknown) => res.writeHead(status, { "content-type": status < 400 ? "application/json" : "application/problem+json" }).end(JSON.stringify(body))
    if (req.headers.authorization !== `Bearer ${token}`) return answer(401, problem(401, "Unauthorized", "invalid token"))
    const match = /^\/public\/v1\/accounts\/accounts\/([^/?]+)(?:\/(enable|disable|activate|deactivate))?$/.exec(req.url ?? "")
    const account = match ? accounts.get(decodeURIComponent(match[1]!)) : undefined
    if (!account) return answer(404, problem(404, "Not Found", "Account not found."))
    if (req.method === "GET" && !match![2]) return answer(200, wire(account))
    if (req.method !== "POST" || !match![2]) return answer(405, problem(405, "Method Not Allowed", "not allowed"))
    const from: Record<string, ReadonlyArray<string>> = { enable: ["Disabled"], disable: ["Active", "Enabled"], activate: ["Enabled"], deactivate: ["Active"] }
    const operation = match![2]
    if (!from[operation]!.includes(account.status)) return answer(400, problem(400, "Bad Request", `Account ${account.id} is ${account.status}: ${operation} is not possible.`))
    account.status = operation === "disable" ? "Disabled" : operation === "deactivate" ? "Enabled" : operation === "activate" || account.externalId !== null ? "Active" : "Enabled"
    answer(200, wire(account))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    statusOf: (id: string) => accounts.get(id)!.status,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

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
