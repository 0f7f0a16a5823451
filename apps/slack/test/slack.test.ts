import { type AccountsService, Principal, RateLimited } from "@acct/core"
import { Effect } from "effect"
import { mkdtempSync, readFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { makeReplayGuard } from "../src/replay-guard.js"
import { WINDOW_SECONDS } from "../src/signature.js"
import { confirmToken, OPS, policy, SECRET, startApp, startCapture, text, useStoreAndCapture } from "./harness.js"

const fixture = useStoreAndCapture()

const ops = { user: "UOPS0001", name: "olivia" }

const runsOf = async (reference: string) => {
  const account = await fixture.store.runtime.runPromise(Effect.flatMap(Effect.succeed(fixture.store.accounts), (a) => a.get({ referenceId: reference })))
  return (await fixture.store.runtime.runPromise(fixture.store.accounts.listRuns({ account: { id: account.id }, size: 100 }))).items.length
}
const statusOf = async (reference: string) => (await fixture.store.runtime.runPromise(fixture.store.accounts.get({ referenceId: reference }))).status

describe("request verification", () => {
  it("acts only on requests signed with the secret within five minutes either way, once", async () => {
    const app = await startApp(fixture.store.accounts, { policy: OPS })
    try {
      const url = fixture.capture.url()
      const body = app.commandBody("enable ghi-789", url, ops)
      const now = Math.floor(Date.now() / 1000)
      const refused = [
        await app.send(body),
        await app.send(body, { "x-slack-request-timestamp": String(now) }),
        await app.send(body, app.signed(body, now, "not-the-secret")),
        await app.send(body, app.signed(body, now - 310)),
        await app.send(body, app.signed(body, now + 310)),
        await app.send(body.replace("ghi-789", "def-456"), app.signed(body, now)),
        await app.send(body, { ...app.signed(body, now), "x-slack-request-timestamp": String(now - 1) })
      ]
      expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401, 401])
      expect(refused.map((r) => JSON.parse(r.text).reason)).toEqual([
        "missing X-Slack-Signature or X-Slack-Request-Timestamp",
        "missing X-Slack-Signature or X-Slack-Request-Timestamp",
        "signature mismatch",
        "stale request (timestamp more than 5 minutes old)",
        "request from the future (timestamp more than 5 minutes ahead)",
        "signature mismatch",
        "signature mismatch"
      ])
      const headers = app.signed(body, now - 290)
      expect((await app.send(body, headers)).status).toBe(200)
      expect((await app.send(body, headers)).status).toBe(401) // the same request replayed
      await fixture.capture.next(url)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(fixture.capture.posts(url)).toHaveLength(1) // only the genuine one ran
      expect((await app.send("ssl_check=1&token=abc")).status).toBe(200)
      expect(app.audit.filter((e) => e.refused)).toHaveLength(8)
    } finally {
      await app.close()
    }
  })
})

describe("replay protection across restarts", () => {
  it("still refuses a captured request after the app restarts on the same file, and forgets it once its window closes", async () => {
    const replayFile = path.join(mkdtempSync(path.join(tmpdir(), "acct-slack-replay-")), "seen-signatures")
    const url = fixture.capture.url()
    const first = await startApp(fixture.store.accounts, { policy: OPS, replayFile })
    const body = first.commandBody("tag def-456 +replayed", url, ops)
    const captured = first.signed(body)
    try {
      expect((await first.send(body, captured)).status).toBe(200)
      await fixture.capture.next(url)
    } finally {
      await first.close()
    }
    const restarted = await startApp(fixture.store.accounts, { policy: OPS, replayFile })
    try {
      const replayed = await restarted.send(body, captured)
      expect(replayed.status).toBe(401)
      expect(JSON.parse(replayed.text).reason).toBe("replayed request")
      // A fresh request still goes through.
      expect((await restarted.slash("show def-456", fixture.capture.url())).status).toBe(200)
    } finally {
      await restarted.close()
    }
    expect(fixture.capture.posts(url)).toHaveLength(1)
    // Entries whose window has closed are dropped when the file is read again.
    const later = makeReplayGuard({ file: replayFile, nowSeconds: Math.floor(Date.now() / 1000) + WINDOW_SECONDS + 1 })
    later.close()
    expect(readFileSync(replayFile, "utf8")).toBe("")
  })
})

describe("commands", () => {
  it("shows, finds and lists history for everyone, masking personal data; a typo gets help with a suggestion", async () => {
    const app = await startApp(fixture.store.accounts)
    try {
      const show = fixture.capture.url()
      expect((await app.slash('  show   "abc-123" ', show)).status).toBe(200)
      const shown = text(await fixture.capture.next(show))
      expect(shown).toContain("abc-123")
      expect(shown).toContain("j•••@doe.com")
      expect(shown).not.toContain("jane@doe.com")
      expect(shown).not.toContain("111-222-3333")
      expect(shown).not.toContain("1994-12-30")

      const find = fixture.capture.url()
      await app.slash("find tag:vip", find)
      expect(text(await fixture.capture.next(find))).toContain("def-456")
      // `find` is a search: the CLI's syntax works too, and a refusal points at the text.
      const search = fixture.capture.url()
      await app.slash("find tags = vip and fields.name.first = John", search)
      const found = text(await fixture.capture.next(search))
      expect(found).toContain("def-456")
      expect(found).not.toContain("ghi-789")
      const refused = fixture.capture.url()
      await app.slash("find fields.phone_number = 111-222-3333", refused)
      expect(text(await fixture.capture.next(refused))).toContain('search, column 1: "fields.phone_number" is not a searchable field')

      const history = fixture.capture.url()
      await app.slash("history def-456", history)
      expect(text(await fixture.capture.next(history))).toContain("History of def-456")

      const typo = fixture.capture.url()
      await app.slash("shwo abc-123", typo)
      expect(text(await fixture.capture.next(typo))).toContain("did you mean `show`?")
      expect((await fixture.capture.next(show)).response_type).toBe("ephemeral")
    } finally {
      await app.close()
    }
  })

  it("show lists the account's relations by key, naming targets by reference id", async () => {
    const { runtime, accounts } = fixture.store
    await runtime.runPromise(accounts.addRelation({ referenceId: "def-456" }, { key: "household", target: { referenceId: "ghi-789" } }, { principal: Principal.make({ actor: { kind: "cli", id: "tester", name: "tester" }, scopes: ["admin"] }), channel: "cli" }))
    const app = await startApp(accounts)
    try {
      const show = fixture.capture.url()
      await app.slash("show def-456", show)
      const shown = text(await fixture.capture.next(show))
      expect(shown).toMatch(/\*household\*: ghi-789 \(`\w+`\)/)
      expect(shown).toContain("*referred_by*: —")
    } finally {
      await app.close()
    }
  })

  it("lets nobody change anything until the policy grants it, and names the missing permission", async () => {
    const groups = createServer((req, res) => {
      // Slack's Web API: usergroups.users.list answers the group's members.
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, users: ["UGRP0001"] }))
      req.resume()
    })
    await new Promise<void>((resolve) => groups.listen(0, "127.0.0.1", resolve))
    const slackApiUrl = `http://127.0.0.1:${(groups.address() as AddressInfo).port}/api/`
    const limited = policy(
      "teams: [T0001]\ngrants:\n  - users: [UOPS0001]\n    scopes: [account.action, account.write]\n  - users: [UTAG0001]\n    scopes: [account.write]\n  - groups: [SOPS0001]\n    scopes: [account.action]\n    actions: [Set status]\n"
    )
    const app = await startApp(fixture.store.accounts, { policy: limited, botToken: "xoxb-test", slackApiUrl })
    try {
      const ask = async (command: string, who: { user: string; team?: string }) => {
        const url = fixture.capture.url()
        await app.slash(command, url, who)
        return text(await fixture.capture.next(url))
      }
      const before = await runsOf("ghi-789")
      expect(await ask("enable ghi-789", { user: "UNOBODY1" })).toContain("You may not enable accounts: missing permission account.action")
      expect(await ask("tag def-456 +gold", { user: "UNOBODY1" })).toContain("missing permission account.write")
      expect(await ask("show def-456", { user: "UNOBODY1", team: "T9999" })).toContain("this workspace is not allowed")
      expect(await ask("enable ghi-789", { user: "UTAG0001" })).toContain("missing permission account.action")
      expect(await ask("tag def-456 +gold -vip", { user: "UTAG0001" })).toContain("gold")
      // A user-group grant, limited to one action.
      expect(await ask('run "Set status" def-456 status=activated', { user: "UGRP0001" })).toContain("Set status")
      expect(await runsOf("ghi-789")).toBe(before) // the refused ones changed nothing
      expect(await ask('run "Set status" ghi-789 status=disabled', { user: "UOPS0001" })).toContain(":white_check_mark:")
      expect(await statusOf("ghi-789")).toBe("disabled")
      expect(app.audit.map((e) => e.outcome)).toEqual(["denied", "denied", "denied", "denied", "ok", "ok", "ok"])
      // Denied or not, the audit lines carry ids and outcomes, never names or tokens.
      expect(JSON.stringify(app.audit)).not.toMatch(/steve|xoxb/)
    } finally {
      await app.close()
      groups.close()
    }
  })

  it("asks before disabling, runs exactly once however often Confirm is clicked, and lets a confirmation expire", async () => {
    const app = await startApp(fixture.store.accounts, { policy: OPS })
    try {
      const url = fixture.capture.url()
      await app.slash("disable def-456 customer asked", url, ops)
      const question = await fixture.capture.next(url)
      expect(text(question)).toContain("are you sure?")
      expect(text(question)).toContain('"style":"danger"')
      const before = await runsOf("def-456")
      expect(await statusOf("def-456")).not.toBe("disabled")

      const token = confirmToken(question)
      const [first, second] = await Promise.all([app.click("acct_confirm", token, url, ops), app.click("acct_confirm", token, url, ops)])
      expect([first.status, second.status]).toEqual([200, 200])
      await fixture.capture.next(url, 2)
      expect(await runsOf("def-456")).toBe(before + 1)
      expect(await statusOf("def-456")).toBe("disabled")
      expect(fixture.capture.posts(url)[1]!.replace_original).toBe(true)

      // Someone else cannot confirm another person's request.
      const other = fixture.capture.url()
      await app.click("acct_confirm", token, other, { user: "UOPS0002" })
      expect(text(await fixture.capture.next(other))).toContain("only the person who asked can confirm")

      // A forged or stale confirmation does nothing.
      const forged = fixture.capture.url()
      await app.click("acct_confirm", `${token.split(".")[0]}.AAAA`, forged, ops)
      expect(text(await fixture.capture.next(forged))).toContain("not genuine")
      const { issue } = await import("../src/confirm.js")
      const stale = issue(SECRET, { command: { kind: "lifecycle", operation: "disable", account: "abc-123", reason: undefined }, teamId: "T0001", userId: ops.user }, Math.floor(Date.now() / 1000) - 11 * 60)
      const expired = fixture.capture.url()
      await app.click("acct_confirm", stale, expired, ops)
      expect(text(await fixture.capture.next(expired))).toContain("expired")
      expect(await statusOf("abc-123")).not.toBe("disabled")

      const cancelled = fixture.capture.url()
      await app.click("acct_cancel", "cancel", cancelled, ops)
      expect((await fixture.capture.next(cancelled)).text).toContain("Cancelled")
    } finally {
      await app.close()
    }
  })
})

describe("redaction", () => {
  it("needs account.redact, asks first, and then erases the account's personal data", async () => {
    const app = await startApp(fixture.store.accounts, { policy: policy("grants:\n  - users: [UOPS0001]\n    scopes: [account.action]\n  - users: [URED0001]\n    scopes: [account.redact]\n") })
    try {
      const refused = fixture.capture.url()
      await app.slash("redact abc-123", refused, ops)
      expect(text(await fixture.capture.next(refused))).toContain("missing permission account.redact")
      const url = fixture.capture.url()
      await app.slash("redact abc-123 GDPR request", url, { user: "URED0001" })
      const question = await fixture.capture.next(url)
      expect(text(question)).toContain("erase its personal data for good")
      expect((await fixture.store.runtime.runPromise(fixture.store.accounts.get({ referenceId: "abc-123" }))).redactedAt).toBeNull()
      await app.click("acct_confirm", confirmToken(question), url, { user: "URED0001" })
      await fixture.capture.next(url, 1)
      const redacted = await fixture.store.runtime.runPromise(fixture.store.accounts.get({ referenceId: "abc-123" }))
      expect(redacted.redactedAt).not.toBeNull()
      // Shown as redacted, not as masked dots.
      const answer = text(fixture.capture.posts(url)[1] as { text: string; blocks?: Array<unknown> })
      expect(answer).toContain(`redacted on ${redacted.redactedAt!.toISOString().slice(0, 10)}`)
      expect(answer).not.toContain("•••")
    } finally {
      await app.close()
    }
  })
})

describe("timing and failures", () => {
  it("acknowledges at once while the backend takes seconds, then answers on response_url", async () => {
    const slow: AccountsService = { ...fixture.store.accounts, lifecycle: (...args) => Effect.zipRight(Effect.sleep("2 seconds"), fixture.store.accounts.lifecycle(...args)) }
    const app = await startApp(slow, { policy: OPS })
    try {
      const url = fixture.capture.url()
      const acked = await app.slash("enable def-456", url, ops)
      expect(acked.status).toBe(200)
      expect(acked.ms).toBeLessThan(500)
      expect(fixture.capture.posts(url)).toHaveLength(0)
      expect(text(await fixture.capture.next(url, 0, 6_000))).toContain(":white_check_mark:")
    } finally {
      await app.close()
    }
  })

  it("turns not found, invalid transitions and rate limits into helpful messages", async () => {
    const throttled: AccountsService = { ...fixture.store.accounts, get: () => Effect.fail(new RateLimited({ message: "slow down", retryAfterSeconds: 7 })) }
    const app = await startApp(fixture.store.accounts, { policy: OPS })
    const busy = await startApp(throttled, { policy: OPS })
    try {
      const ask = async (target: typeof app, command: string) => {
        const url = fixture.capture.url()
        await target.slash(command, url, ops)
        return text(await fixture.capture.next(url))
      }
      expect(await ask(app, "show nobody-here")).toContain("Check the id or reference id")
      expect(await ask(app, "activate ghi-789")).toMatch(/cannot activate account .*: it is/)
      expect(await ask(app, "show act_x")).toContain("expected an account id")
      // An unquoted action name of several words: how to quote it, not "check the id".
      const unquoted = await ask(app, "run Set status abc-123 status=activated")
      expect(unquoted).toContain('Quote an action whose name has spaces: `/acct run \\"Set status\\" abc-123 status=activated`')
      expect(unquoted).not.toContain("Check the id")
      expect(await ask(app, "run Launch rockets abc-123")).toContain('no action is called "Launch"; actions: Mark VIP, Reinstate, Set status, Suspend for review, Update contact.')
      expect(await ask(busy, "show def-456")).toContain("acct is busy (rate limited); try again in 7 s")
    } finally {
      await app.close()
      await busy.close()
    }
  })

  it("retries response_url posts that fail transiently", async () => {
    const flaky = await startCapture(2)
    const app = await startApp(fixture.store.accounts)
    try {
      const url = flaky.url()
      await app.slash("show abc-123", url)
      expect(text(await flaky.next(url))).toContain("abc-123")
      expect(flaky.attempts(url)).toBe(3)
    } finally {
      await app.close()
      await flaky.close()
    }
  })
})
