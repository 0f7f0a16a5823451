import { spawn } from "node:child_process"
import { describe, expect, it } from "vitest"
import { personaSignatureValid, standardWebhookValid, startReceiver } from "../../../packages/webhooks/test/receiver.js"
import { BIN, workspace } from "./cli.js"

describe("acct webhooks", () => {
  const { acct, db } = workspace()
  const env = { ACCT_WEBHOOK_ALLOWED_HOSTS: "127.0.0.1" }

  it("creates (secret printed once), lists, shows, updates, disables, rotates, clones, archives", () => {
    expect(acct(["init", "--demo"]).code).toBe(0)
    const made = acct(["webhooks", "create", "--name", "crm", "--url", "http://127.0.0.1:9/hook", "--event", "account.created", "--json"], undefined, env)
    expect(made.stderr).toBe("")
    const hook = made.json()
    expect(hook).toMatchObject({ name: "crm", status: "disabled", enabledEvents: ["account.created"], keyInflection: "kebab" })
    expect(hook.secret).toMatch(/^wbhsec_/)
    const list = acct(["webhooks", "list"])
    expect(list.stdout).toContain(hook.id)
    expect(list.stdout).not.toContain("wbhsec_")
    expect(acct(["webhooks", "show", hook.id]).stdout).toContain("http://127.0.0.1:9/hook")
    expect(acct(["webhooks", "update", hook.id, "--event", "*", "--inflection", "snake", "--json"], undefined, env).json()).toMatchObject({ enabledEvents: ["*"], keyInflection: "snake" })
    expect(acct(["webhooks", "enable", hook.id]).stdout).toContain("is enabled")
    expect(acct(["webhooks", "disable", hook.id]).stdout).toContain("is disabled")
    const rotated = acct(["webhooks", "rotate-secret", hook.id, "--grace", "60", "--json"]).json()
    expect(rotated.secret).not.toBe(hook.secret)
    expect(acct(["webhooks", "clone", hook.id, "--json"], undefined, env).json().id).not.toBe(hook.id)
    expect(acct(["webhooks", "archive", hook.id]).stdout).toContain("is archived")
    expect(acct(["webhooks", "deliveries", hook.id]).stdout).toContain("No delivery attempts")
  })

  it("refuses what the SSRF guard refuses, and a bad retry schedule, in words (exit 2)", () => {
    const http = acct(["webhooks", "create", "--name", "x", "--url", "http://example.com/", "--event", "*"])
    expect(http.code).toBe(2)
    expect(http.stderr).toContain("must use https")
    const metadata = acct(["webhooks", "create", "--name", "x", "--url", "https://169.254.169.254/", "--event", "*"])
    expect(metadata.code).toBe(2)
    expect(metadata.stderr).toContain("a link-local address")
    const schedule = acct(["webhooks", "dispatch"], undefined, { ACCT_WEBHOOK_RETRY_SCHEDULE: "0s,soon" })
    expect(schedule.code).toBe(2)
    expect(schedule.stderr).toContain('ACCT_WEBHOOK_RETRY_SCHEDULE: entry 2 "soon" is not a duration')
    expect(acct(["events", "replay"]).stderr).toContain("give an event id or --since TIME")
  })

  it("`webhooks dispatch` delivers as a worker of its own; `events replay` sends again with the same webhook-id", async () => {
    const receiver = await startReceiver()
    try {
      const hook = acct(["webhooks", "create", "--name", "sink", "--url", `${receiver.url}/in`, "--event", "*", "--enable", "--json"], undefined, env).json()
      expect(acct(["accounts", "tag", "abc-123", "from-cli"]).code).toBe(0)
      const worker = spawn(process.execPath, [BIN, "webhooks", "dispatch"], { env: { ...process.env, ACCT_DATABASE: db, ...env, ACCT_WEBHOOK_POLL_MS: "100" }, stdio: "ignore" })
      try {
        const got = await receiver.until((all) => all.length >= 2)
        expect(new Set(got.map((r) => r.json.data.attributes.name))).toEqual(new Set(["account.tag-added", "account.updated-tags"]))
        for (const r of got) {
          expect(standardWebhookValid(r.headers, hook.secret, r.body)).toBe(true)
          expect(personaSignatureValid(r.headers["persona-signature"], hook.secret, r.body)).toBe(true)
        }
        const first = got[0]!.headers["webhook-id"]!
        const replay = acct(["events", "replay", first, "--json"])
        expect(replay.json()).toEqual({ events: 1, deliveries: 1 })
        const again = await receiver.until((all) => all.length >= 3)
        expect(again[2]!.headers["webhook-id"]).toBe(first)
        const log = acct(["webhooks", "deliveries", hook.id, "--json"]).json()
        expect(log.data.length).toBeGreaterThanOrEqual(2)
        expect(log.data.every((a: { status: number }) => a.status === 200)).toBe(true)
      } finally {
        worker.kill("SIGKILL")
      }
    } finally {
      await receiver.close()
    }
  })
})
