import { type ChildProcess, spawn } from "node:child_process"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { personaSignatureValid, standardWebhookValid, startReceiver } from "../../../packages/webhooks/test/receiver.js"
import { BIN, startAcctServer, workspace } from "./cli.js"

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
    expect(schedule.stderr).toContain('ACCT_WEBHOOK_RETRY_SCHEDULE: entry 2: expected a number and a unit (ms, s, m, h, d), e.g. 0s,5s,5m,30m; got "soon"')
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

describe("acct webhooks and events through a server (ACCT_URL + ACCT_API_KEY)", () => {
  const KEY = "acct_webhooks_remote_test_key_0123456789"
  // The server's database: the CLI reaches it only through the server's API.
  const served = workspace()
  const { acct } = workspace()
  let server: ChildProcess
  let url = ""
  const remote = (args: ReadonlyArray<string>) => acct(args, undefined, { ACCT_URL: url, ACCT_API_KEY: KEY })

  beforeAll(async () => {
    expect(served.acct(["init", "--demo"]).code).toBe(0)
    const started = startAcctServer({ ACCT_DATABASE: served.db, ACCT_BOOTSTRAP_KEY: KEY, ACCT_WEBHOOK_ALLOWED_HOSTS: "127.0.0.1", ACCT_WEBHOOK_POLL_MS: "100" })
    server = started.server
    url = await started.url
  }, 40_000)
  afterAll(() => {
    server.kill("SIGKILL")
  })

  it("manages webhooks, reads their attempts, lists, shows and replays events over the API", async () => {
    const receiver = await startReceiver()
    try {
      const made = remote(["webhooks", "create", "--name", "sink", "--url", `${receiver.url}/in`, "--event", "account.tag-added", "--enable", "--json"])
      expect(made.stderr).toBe("")
      const hook = made.json()
      expect(hook).toMatchObject({ name: "sink", status: "enabled", enabledEvents: ["account.tag-added"] })
      expect(hook.secret).toMatch(/^wbhsec_/)
      // It is the server's webhook: its own database has it.
      expect(served.acct(["webhooks", "show", hook.id, "--json"]).json()).toMatchObject({ id: hook.id, status: "enabled" })
      expect(remote(["webhooks", "list"]).stdout).toContain(hook.id)
      expect(remote(["webhooks", "update", hook.id, "--event", "account.tag-added", "--event", "account.tag-removed", "--json"]).json().enabledEvents).toEqual(["account.tag-added", "account.tag-removed"])

      expect(remote(["accounts", "tag", "abc-123", "over-http"]).code).toBe(0)
      const [first] = await receiver.until((all) => all.length >= 1)
      expect(standardWebhookValid(first!.headers, hook.secret, first!.body)).toBe(true)
      const eventId = first!.headers["webhook-id"]!
      expect(remote(["events", "list", "--name", "account.tag-added", "--json"]).json().data[0].id).toBe(eventId)
      expect(remote(["events", "show", eventId, "--json"]).json()).toMatchObject({ id: eventId, name: "account.tag-added" })

      expect(remote(["events", "replay", eventId, "--json"]).json()).toEqual({ events: 1, deliveries: 1 })
      const again = await receiver.until((all) => all.length >= 2)
      expect(again[1]!.headers["webhook-id"]).toBe(eventId)
      const since = remote(["events", "replay", "--since", new Date(Date.now() - 60_000).toISOString(), "--webhook", hook.id, "--json"]).json()
      expect(since.deliveries).toBeGreaterThanOrEqual(2)
      await receiver.until((all) => all.length >= 2 + since.deliveries)

      let log = remote(["webhooks", "deliveries", hook.id, "--json"]).json()
      for (let i = 0; i < 50 && log.data.length < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        log = remote(["webhooks", "deliveries", hook.id, "--json"]).json()
      }
      expect(log.data.length).toBeGreaterThanOrEqual(2)
      expect(log.data.filter((a: { status: number | null }) => a.status === 200).length).toBeGreaterThanOrEqual(2)

      const rotated = remote(["webhooks", "rotate-secret", hook.id, "--grace", "60", "--json"]).json()
      expect(rotated.secret).toMatch(/^wbhsec_/)
      expect(rotated.secret).not.toBe(hook.secret)
      expect(remote(["webhooks", "clone", hook.id, "--json"]).json()).toMatchObject({ name: "sink", status: "disabled" })
      expect(remote(["webhooks", "disable", hook.id]).stdout).toContain("is disabled")
      expect(remote(["webhooks", "archive", hook.id]).stdout).toContain("is archived")
      // Refusals come back in words, as locally.
      const missing = remote(["webhooks", "show", "wbh_000000000000000000000000"])
      expect(missing.code).not.toBe(0)
      expect(missing.stderr).toContain("wbh_000000000000000000000000")
      const unknownEvent = remote(["events", "replay", "evt_000000000000000000000000"])
      expect(unknownEvent.code).not.toBe(0)
      expect(unknownEvent.stderr).toContain("evt_000000000000000000000000")
    } finally {
      await receiver.close()
    }
  }, 90_000)
})
