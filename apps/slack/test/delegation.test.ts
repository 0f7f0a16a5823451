/**
 * Who acts through a server: the built Slack app with ACCT_URL in front of a built acct server.
 * A Slack-confirmed disable is recorded with the Slack team and user as the actor and the Slack
 * app's key as the one they acted through — in the audit trail, the run, `GET /workflow-runs`
 * and `/acct history` — and a key without `account.delegate` naming a person is a 403.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { sign } from "../src/signature.js"
import { confirmToken, SECRET, startCapture, text } from "./harness.js"

const APP = fileURLToPath(new URL("../dist/slack.mjs", import.meta.url))
const SERVER = fileURLToPath(new URL("../../server/dist/server.mjs", import.meta.url))
const CLI = fileURLToPath(new URL("../../cli/dist/acct.mjs", import.meta.url))

const children: Array<ChildProcess> = []
afterAll(() => {
  for (const child of children) child.kill("SIGKILL")
})

/** A built program that prints `Listening on URL`; resolves with that URL. */
const start = (program: string, env: Record<string, string>) =>
  new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [program], { env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ...env }, stdio: ["ignore", "pipe", "pipe"] })
    children.push(child)
    let log = ""
    const onData = (chunk: Buffer) => {
      log += chunk
      const found = /Listening on (http:\/\/[\d.:]+)/.exec(log)
      if (found) resolve(found[1]!)
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.once("exit", (code) => reject(new Error(`${path.basename(program)} exited ${code}: ${log}`)))
  })

const acct = (args: ReadonlyArray<string>) => {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" })
  if (result.status !== 0) throw new Error(`acct ${args.join(" ")}: ${result.stderr}`)
  return result.stdout
}

const newKey = (database: string, name: string, scopes: ReadonlyArray<string>) =>
  (JSON.parse(acct(["keys", "create", "--name", name, ...scopes.flatMap((s) => ["--scope", s]), "--db", database, "--json"])) as { secret: string }).secret

const signed = (body: string) => {
  const timestamp = String(Math.floor(Date.now() / 1000))
  return { "x-slack-request-timestamp": timestamp, "x-slack-signature": sign(SECRET, timestamp, body) }
}

describe("a Slack-confirmed change through an acct server", () => {
  it("records the Slack person as the actor and the app's key as the one they acted through", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "acct-slack-delegation-"))
    const database = path.join(dir, "acct.db")
    acct(["init", "--demo", "--db", database])
    const slackKey = newKey(database, "slack app", ["account.read", "account.action", "account.delegate"])
    const plainKey = newKey(database, "plain operator", ["account.read", "account.action"])
    writeFileSync(path.join(dir, "policy.yaml"), "grants:\n  - users: [UOPS0001]\n    scopes: [account.read, account.action]\n")

    const server = await start(SERVER, { ACCT_DATABASE: database, ACCT_SEED_DEMO: "false" })
    const slack = await start(APP, { SLACK_SIGNING_SECRET: SECRET, ACCT_URL: server, ACCT_API_KEY: slackKey, ACCT_SLACK_POLICY: path.join(dir, "policy.yaml") })
    const capture = await startCapture()
    try {
      const post = async (body: string) => (await fetch(`${slack}/slack/events`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...signed(body) }, body })).status
      const slash = (commandText: string, responseUrl: string) =>
        post(new URLSearchParams({ command: "/acct", team_id: "T0001", user_id: "UOPS0001", text: commandText, response_url: responseUrl, trigger_id: "1" }).toString())
      const click = (value: string, responseUrl: string) =>
        post(
          `payload=${encodeURIComponent(
            JSON.stringify({
              type: "block_actions",
              user: { id: "UOPS0001", team_id: "T0001" },
              team: { id: "T0001" },
              response_url: responseUrl,
              actions: [{ action_id: "acct_confirm", block_id: "confirm", value, type: "button", action_ts: `${Date.now() / 1000}` }]
            })
          )}`
        )

      const asked = capture.url()
      expect(await slash("disable abc-123 customer asked", asked)).toBe(200)
      const token = confirmToken(await capture.next(asked))
      const done = capture.url()
      expect(await click(token, done)).toBe(200)
      expect(text(await capture.next(done, 0, 10_000))).toContain(":white_check_mark:")

      // The server's audit trail: the person, and the key they came through.
      const audit = JSON.parse(acct(["audit", "--db", database, "--account", "abc-123", "--json"])) as { data: Array<Record<string, any>> } // eslint-disable-line @typescript-eslint/no-explicit-any
      const entry = audit.data.find((e) => e.operation === "disable" && e.outcome === "ok")!
      expect(entry.actor).toMatchObject({ kind: "slack", id: "T0001/UOPS0001" })
      expect(entry.via).toMatchObject({ kind: "api-key", name: "slack app" })
      expect(entry.reason).toBe("customer asked")
      expect(acct(["audit", "--db", database, "--account", "abc-123"])).toContain("slack:T0001/UOPS0001 via api-key:slack app")

      // The run, over HTTP and in the CLI.
      const auth = { authorization: `Bearer ${plainKey}` }
      const runs = (await (await fetch(`${server}/api/v1/workflow-runs?page%5Bsize%5D=100`, { headers: auth })).json()) as { data: Array<{ id: string; attributes: Record<string, any> }> } // eslint-disable-line @typescript-eslint/no-explicit-any
      const run = runs.data.find((r) => r.attributes["action-name"] === "disable")!
      expect(run.attributes.actor).toMatchObject({ kind: "slack", id: "T0001/UOPS0001" })
      expect(run.attributes.via).toMatchObject({ kind: "api-key", name: "slack app" })
      expect(acct(["runs", "show", run.id, "--db", database])).toMatch(/via key:\s+api-key:key_\w+ \(slack app\)/)

      // /acct history shows the person, via the key.
      const history = capture.url()
      expect(await slash("history abc-123", history)).toBe(200)
      expect(text(await capture.next(history, 0, 10_000))).toContain("<@UOPS0001> via key slack app")

      // /acct show through the server masks personal data as the catalog says (the type's pii flags come with it).
      const shown = capture.url()
      expect(await slash("show def-456", shown)).toBe(200)
      const shownText = JSON.stringify(await capture.next(shown, 0, 10_000))
      expect(shownText).toContain("*name*: J••• S•••")
      expect(shownText).not.toContain("John")

      // A key without account.delegate may not name anyone: 403, and nothing changes.
      const jane = (await (await fetch(`${server}/api/v1/accounts?filter%5Breference-id%5D=abc-123`, { headers: auth })).json()) as { data: Array<{ id: string }> }
      const refused = await fetch(`${server}/api/v1/accounts/${jane.data[0]!.id}/enable`, { method: "POST", headers: { ...auth, "acct-on-behalf-of": "slack:T0001/UOPS0001" } })
      expect(refused.status).toBe(403)
      expect(((await refused.json()) as { errors: Array<{ details: string }> }).errors[0]!.details).toBe("plain operator may not act on behalf of slack:T0001/UOPS0001: missing scope account.delegate")
      const malformed = await fetch(`${server}/api/v1/accounts/${jane.data[0]!.id}/enable`, { method: "POST", headers: { authorization: `Bearer ${slackKey}`, "acct-on-behalf-of": "api-key:key_123" } })
      expect(malformed.status).toBe(400)
      expect(((await malformed.json()) as { errors: Array<{ details: string }> }).errors[0]!.details).toContain("expected a person as kind:id with kind slack or cli")
    } finally {
      await capture.close()
    }
  }, 60_000)
})
