/**
 * Gateway mode: acct in front of an upstream Persona (here another acct server speaking
 * Persona's format), adding its own keys, per-scope permissions and idempotency.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer } from "./harness.js"

let upstream: Awaited<ReturnType<typeof startServer>>
let gateway: Awaited<ReturnType<typeof startServer>>
let janeId = ""

beforeAll(async () => {
  upstream = await startServer()
  const action = (await upstream.call("GET", "/api/v1/account-actions")).json.data.find((a: { attributes: { name: string } }) => a.attributes.name === "Set status").id
  janeId = (await upstream.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0].id
  const dir = mkdtempSync(path.join(tmpdir(), "acct-gateway-"))
  const config = path.join(dir, "acct.config.yaml")
  writeFileSync(
    config,
    `profiles:\n  upstream:\n    provider: persona\n    url: ${upstream.base}/api/v1\n    apiKeyEnv: ACCT_TEST_UPSTREAM_KEY\n    actions: { Set status: ${action} }\n    lifecycle:\n      disable: { action: Set status, parameters: { status: disabled } }\n`
  )
  process.env.ACCT_CONFIG = config
  process.env.ACCT_TEST_UPSTREAM_KEY = upstream.admin
  gateway = await startServer({ profile: "upstream" })
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
