/**
 * The built app as `npm run -s slack` runs it: this thread receives and acknowledges, a worker
 * thread does the work on a local store; SIGTERM lets acknowledged work finish, then exits 0.
 * Started again on the same database, it still refuses a request it has seen.
 */
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { sign } from "../src/signature.js"
import { SECRET, startCapture, text } from "./harness.js"

const APP = fileURLToPath(new URL("../dist/slack.mjs", import.meta.url))
const CLI = fileURLToPath(new URL("../../cli/dist/acct.mjs", import.meta.url))

/** The built app on a random port; resolves once it listens. */
const startBuilt = async (env: Record<string, string>) => {
  const app = spawn(process.execPath, [APP], { env: { ...process.env, SLACK_SIGNING_SECRET: SECRET, PORT: "0", HOST: "127.0.0.1", ...env }, stdio: ["ignore", "pipe", "pipe"] })
  let log = ""
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk
      const found = /Listening on (http:\/\/[\d.:]+)\/slack\/events/.exec(log)
      if (found) resolve(found[1]!)
    }
    app.stdout!.on("data", onData)
    app.stderr!.on("data", onData)
    app.once("exit", (code) => reject(new Error(`exited ${code}: ${log}`)))
  })
  const exited = new Promise<number | null>((resolve) => app.once("exit", resolve))
  const post = async (body: string, headers: Record<string, string>) =>
    (await fetch(`${url}/slack/events`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body })).status
  return { app, url, exited, post, log: () => log }
}

const signed = (body: string) => {
  const timestamp = String(Math.floor(Date.now() / 1000))
  return { "x-slack-request-timestamp": timestamp, "x-slack-signature": sign(SECRET, timestamp, body) }
}

const command = (text: string, responseUrl: string, user = "UOPS0001") =>
  new URLSearchParams({ token: "x", team_id: "T0001", team_domain: "e", channel_id: "C1", channel_name: "ops", user_id: user, user_name: "olivia", command: "/acct", text, api_app_id: "A1", response_url: responseUrl, trigger_id: `${Math.random()}` }).toString()

describe("the built Slack app", () => {
  it("answers through its worker thread, drains on SIGTERM, and refuses a replay after a restart", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "acct-slack-built-"))
    const database = path.join(dir, "acct.db")
    expect(spawnSync(process.execPath, [CLI, "init", "--demo", "--db", database]).status).toBe(0)
    writeFileSync(path.join(dir, "policy.yaml"), "grants:\n  - users: [UOPS0001]\n    scopes: [account.action]\n")
    const env = { ACCT_DATABASE: database, ACCT_SLACK_POLICY: path.join(dir, "policy.yaml") }
    const capture = await startCapture()
    const first = await startBuilt(env)
    let second: Awaited<ReturnType<typeof startBuilt>> | undefined
    try {
      const slash = (text: string, responseUrl: string, user?: string) => {
        const body = command(text, responseUrl, user)
        return first.post(body, signed(body))
      }
      // Slack has deprecated user_name: a command without it is answered, and the app lives on.
      const nameless = capture.url()
      const bare = new URLSearchParams({ command: "/acct", team_id: "T0001", user_id: "UOPS0001", response_url: nameless, text: "show def-456" }).toString()
      expect(await first.post(bare, signed(bare))).toBe(200)
      expect(text(await capture.next(nameless))).toContain("def-456")

      const show = capture.url()
      expect(await slash("show abc-123", show)).toBe(200)
      expect(text(await capture.next(show))).toContain("j•••@doe.com")

      const denied = capture.url()
      await slash("enable ghi-789", denied, "UNOBODY1")
      expect(text(await capture.next(denied))).toContain("missing permission account.action")
      // Acknowledged just before SIGTERM: still done, then the app exits.
      const enabled = capture.url()
      const enable = command("enable ghi-789", enabled)
      const captured = signed(enable)
      expect(await first.post(enable, captured)).toBe(200)
      first.app.kill("SIGTERM")
      expect(text(await capture.next(enabled))).toContain(":white_check_mark:")
      expect(await first.exited).toBe(0)
      expect(first.log()).toContain('"outcome":"denied"')

      // The captured request, replayed to the restarted app within its five minutes: refused.
      second = await startBuilt(env)
      expect(await second.post(enable, captured)).toBe(401)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(capture.posts(enabled)).toHaveLength(1)
    } finally {
      first.app.kill("SIGKILL")
      second?.app.kill("SIGKILL")
      await capture.close()
    }
  }, 20_000)
})
