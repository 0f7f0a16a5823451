/**
 * Whatever arrives, the app answers and keeps running: commands with fields missing or empty
 * (Slack has deprecated `user_name`), other commands, bodies that are not Slack's, broken
 * interaction payloads, very long text.
 */
import { describe, expect, it } from "vitest"
import { OPS, startApp, text, useStoreAndCapture } from "./harness.js"

const fixture = useStoreAndCapture()

/** Slack refuses a message whose text passes 40,000 characters or a block's text 3,000. */
const withinSlackLimits = (message: { text: string; blocks?: Array<unknown> }) =>
  message.text.length <= 40_000 &&
  (message.blocks ?? []).every((block) => {
    const b = block as { text?: { text: string }; elements?: Array<{ text?: string }> }
    return (b.text?.text.length ?? 0) <= 3_000 && (b.elements ?? []).every((e) => (e.text?.length ?? 0) <= 3_000)
  })


describe("a slash command with fields missing or empty", () => {
  it("is answered without user_name, and with only the fields acct reads", async () => {
    const app = await startApp(fixture.store.accounts)
    try {
      const url = fixture.capture.url()
      const body = new URLSearchParams({ command: "/acct", team_id: "T0001", user_id: "U0000001", response_url: url, text: "show def-456" }).toString()
      expect((await app.send(body, app.signed(body))).status).toBe(200)
      expect(text(await fixture.capture.next(url))).toContain("def-456")

      // Every optional field present but empty, and no text at all: help.
      const empty = fixture.capture.url()
      const bare = new URLSearchParams({ token: "", team_domain: "", channel_id: "", channel_name: "", user_name: "", command: "/acct", team_id: "T0001", user_id: "U0000001", response_url: empty, api_app_id: "", trigger_id: "" }).toString()
      expect((await app.send(bare, app.signed(bare))).status).toBe(200)
      expect(text(await fixture.capture.next(empty))).toContain("show &lt;account&gt;")
    } finally {
      await app.close()
    }
  })

  it("answers at once, ephemerally, when a field acct needs is missing or another command arrives", async () => {
    const app = await startApp(fixture.store.accounts)
    try {
      const noUrl = new URLSearchParams({ command: "/acct", team_id: "T0001", user_id: "U0000001", text: "show abc-123" }).toString()
      const answer = await app.send(noUrl, app.signed(noUrl))
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.text)).toMatchObject({ response_type: "ephemeral", text: expect.stringContaining("response_url") })

      const noUser = new URLSearchParams({ command: "/acct", team_id: "T0001", user_id: "", response_url: fixture.capture.url(), text: "show abc-123" }).toString()
      expect(JSON.parse((await app.send(noUser, app.signed(noUser))).text).text).toContain("user_id")

      const other = new URLSearchParams({ command: "/weather", team_id: "T0001", user_id: "U0000001", response_url: fixture.capture.url(), text: "" }).toString()
      const otherAnswer = await app.send(other, app.signed(other))
      expect(otherAnswer.ms).toBeLessThan(2_000)
      expect(JSON.parse(otherAnswer.text)).toMatchObject({ response_type: "ephemeral", text: "acct answers /acct only, not /weather." })
    } finally {
      await app.close()
    }
  })

  it("answers very long text with help, within Slack's message limits", async () => {
    const app = await startApp(fixture.store.accounts)
    try {
      for (const long of [`find ${"x".repeat(3_900)}`, `show ${"<@U1>&".repeat(700)}`, `tag abc-123 +${"&".repeat(3_000)}`, `find ${"x".repeat(50_000)}`, "y".repeat(50_000)]) {
        const url = fixture.capture.url()
        expect((await app.slash(long, url)).status).toBe(200)
        const message = await fixture.capture.next(url)
        expect(withinSlackLimits(message), long.slice(0, 20)).toBe(true)
      }
    } finally {
      await app.close()
    }
  })
})

describe("requests that are not Slack commands or clicks", () => {
  it("get a 400 naming the problem, and the app goes on answering", async () => {
    const app = await startApp(fixture.store.accounts)
    try {
      const refusals = [
        ["application/x-www-form-urlencoded", "%%%&&&==&="],
        ["application/x-www-form-urlencoded", "payload=%7Bnot%20json"],
        ["application/x-www-form-urlencoded", `payload=${encodeURIComponent(JSON.stringify({ type: "block_actions", actions: [] }))}`],
        ["application/x-www-form-urlencoded", `payload=${encodeURIComponent("[1,2]")}`],
        ["application/json", JSON.stringify({ command: "/acct" })]
      ] as const
      for (const [contentType, body] of refusals) {
        const answer = await app.send(body, { ...app.signed(body), "content-type": contentType })
        expect(answer.status, body).toBe(400)
        expect(JSON.parse(answer.text).reason).toBeTruthy()
      }
      const url = fixture.capture.url()
      await app.slash("show abc-123", url)
      expect(text(await fixture.capture.next(url))).toContain("abc-123")
    } finally {
      await app.close()
    }
  })
})

describe("messages", () => {
  it("mention the person who acted (not escaped), and show personal data only as the catalog allows", async () => {
    const app = await startApp(fixture.store.accounts, { policy: OPS })
    try {
      const url = fixture.capture.url()
      await app.slash('run "Set status" def-456 status=activated', url, { user: "UOPS0001" })
      const result = text(await fixture.capture.next(url))
      expect(result).toContain("by <@UOPS0001>")
      expect(result).not.toContain("&lt;@")

      const history = fixture.capture.url()
      await app.slash("history def-456", history)
      expect(text(await fixture.capture.next(history))).toContain("<@UOPS0001>")

      // `name` is personal data in the demo catalog: initials only.
      const show = fixture.capture.url()
      await app.slash("show abc-123", show)
      const shown = text(await fixture.capture.next(show))
      expect(shown).toContain("J••• M••• D•••")
      expect(shown).not.toMatch(/Jane|Marie|Doe\b/)
    } finally {
      await app.close()
    }
  })
})
