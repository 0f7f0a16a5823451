/**
 * Property: whatever Slack-shaped input arrives — slash-command fields and interaction payloads
 * missing, empty, of the wrong shape, hostile or very long — the running app answers each
 * correctly signed request over real HTTP within 3 s (200, or 400 for what is not a Slack
 * request, 413 for a body over 64 KB), answers well-formed commands on their response_url, and
 * is still up afterwards.
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { OPS, startApp, text, useStoreAndCapture } from "./harness.js"

const fixture = useStoreAndCapture()
let app: Awaited<ReturnType<typeof startApp>>


beforeAll(async () => {
  app = await startApp(fixture.store.accounts, { policy: OPS, responseRetryBaseMs: 1 })
})
afterAll(async () => {
  await app.close()
})

/** Text of any kind: empty, ASCII, any Unicode, markup Slack treats specially, or very long. */
const anyText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.fullUnicodeString({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "<@U1>", "<!channel>", "&amp;", "`", "*", "\u0000", "\n", "act_", "\uFEFF") },
  { weight: 1, arbitrary: fc.string({ minLength: 3_000, maxLength: 6_000 }) }
)
/** A field that is valid, absent, empty or anything else. */
const field = (...valid: Array<string>) => fc.option(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: anyText }), { nil: undefined, freq: 5 })

const word = fc.oneof(
  fc.constantFrom("abc-123", "def-456", "ghi-789", "act_x", '"Set status"', "Set", "status", "+vip", "-trial", "+", "status=activated", "status=", "tag:vip", "status:disabled", "reason"),
  fc.fullUnicodeString({ maxLength: 12 })
)
const commandText = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom("show", "find", "enable", "disable", "activate", "deactivate", "run", "tag", "history", "redact", "help", "SHOW", "shwo", ""), fc.array(word, { maxLength: 6 })).map(([sub, rest]) => [sub, ...rest].join(" ")) },
  { weight: 1, arbitrary: anyText }
)

const slashCommand = (responseUrl: string) =>
  fc.record(
    {
      command: field("/acct"),
      team_id: field("T0001"),
      user_id: field("UOPS0001", "U0000001"),
      user_name: field("olivia"),
      response_url: field(responseUrl, responseUrl, "not a url", "javascript:alert(1)", "http://127.0.0.1:9/closed"),
      text: fc.option(commandText, { nil: undefined, freq: 8 }),
      channel_id: field("C0001"),
      team_domain: field("example"),
      enterprise_id: field("E0001"),
      trigger_id: field("1.2.3"),
      api_app_id: field("A0001"),
      is_enterprise_install: field("false", "true")
    },
    { requiredKeys: [] }
  )

const json = fc.jsonValue({ maxDepth: 3 })
const interaction = (responseUrl: string) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record(
        {
          type: fc.oneof(fc.constant("block_actions"), fc.constantFrom("view_submission", "shortcut", "message_action"), json),
          user: fc.oneof(fc.record({ id: fc.oneof(fc.constantFrom("UOPS0001", "U0000001"), json), team_id: fc.oneof(fc.constant("T0001"), json) }, { requiredKeys: [] }), json),
          team: fc.oneof(fc.constant(null), fc.record({ id: fc.oneof(fc.constant("T0001"), json) }), json),
          response_url: fc.oneof(fc.constant(responseUrl), json),
          actions: fc.oneof(
            fc.array(fc.record({ action_id: fc.oneof(fc.constantFrom("acct_confirm", "acct_cancel", "other"), json), value: fc.oneof(anyText, fc.constant("eyJ4IjoxfQ.AAAA"), json) }, { requiredKeys: [] }), { maxLength: 3 }),
            json
          )
        },
        { requiredKeys: [] }
      ).map((payload) => JSON.stringify(payload))
    },
    { weight: 1, arbitrary: json.map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: anyText }
  )

const ANSWERS = [200, 400, 413]

let sent = 0
/**
 * Posts a correctly signed body; the status, answered within 3 s or the fetch fails. Each is
 * stamped a different second within the window, so that a body generated twice is not refused
 * as a replay (Slack's own requests are unique).
 */
const post = async (body: string, contentType = "application/x-www-form-urlencoded") => {
  const timestamp = Math.floor(Date.now() / 1000) - (sent++ % 280)
  const response = await fetch(`${app.url}/slack/events`, { method: "POST", headers: { ...app.signed(body, timestamp), "content-type": contentType }, body, signal: AbortSignal.timeout(3_000) })
  await response.text()
  return response.status
}

const formOf = (fields: Record<string, string | undefined>) => new URLSearchParams(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)).toString()

const isWellFormed = (fields: Record<string, string | undefined>, responseUrl: string) =>
  fields.command === "/acct" && fields.team_id === "T0001" && (fields.user_id === "UOPS0001" || fields.user_id === "U0000001") && fields.response_url === responseUrl

describe("fuzzing the running app", () => {
  it("answers every slash command within 3 s, and answers well-formed ones on response_url", async () => {
    // Every well-formed command is answered there exactly once (in order of arrival or not).
    const url = fixture.capture.url()
    let answered = 0
    await fc.assert(
      fc.asyncProperty(fc.context(), slashCommand(url), async (ctx, fields) => {
        const body = formOf(fields)
        const status = await post(body)
        ctx.log(`${status} ${body.slice(0, 200)}`)
        expect(ANSWERS).toContain(status)
        if (isWellFormed(fields, url)) expect((await fixture.capture.next(url, answered++)).text).toBeTruthy()
      }),
      { numRuns: 150 }
    )
  }, 120_000)

  it("answers every interaction payload within 3 s", async () => {
    await fc.assert(
      fc.asyncProperty(interaction(fixture.capture.url()), async (payload) => {
        expect(ANSWERS).toContain(await post(`payload=${encodeURIComponent(payload)}`))
      }),
      { numRuns: 150 }
    )
  }, 120_000)

  it("answers any signed body within 3 s", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyText, json.map((v) => JSON.stringify(v))), fc.constantFrom("application/x-www-form-urlencoded", "application/json", "text/plain"), async (body, contentType) => {
        expect(ANSWERS).toContain(await post(body, contentType))
      }),
      { numRuns: 100 }
    )
  }, 120_000)

  it("is still up and answering afterwards", async () => {
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200)
    const url = fixture.capture.url()
    expect((await app.slash("show abc-123", url)).status).toBe(200)
    expect(text(await fixture.capture.next(url))).toContain("abc-123")
  })
})
