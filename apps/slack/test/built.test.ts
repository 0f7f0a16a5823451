/**
 * The built app as `npm run -s slack` runs it: this thread receives and acknowledges, a worker
 * thread does the work on a local store; SIGTERM lets acknowledged work finish, then exits 0.
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

describe("the built Slack app", () => {
  it("answers through its worker thread, and drains on SIGTERM", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "acct-slack-built-"))
    const database = path.join(dir, "acct.db")
    expect(spawnSync(process.execPath, [CLI, "init", "--demo", "--db", database]).status).toBe(0)
    writeFileSync(path.join(dir, "policy.yaml"), "grants:\n  - users: [UOPS0001]\n    scopes: [account.action]\n")
    const app = spawn(process.execPath, [APP], {
      env: { ...process.env, SLACK_SIGNING_SECRET: SECRET, PORT: "0", HOST: "127.0.0.1", ACCT_DATABASE: database, ACCT_SLACK_POLICY: path.join(dir, "policy.yaml") },
      stdio: ["ignore", "pipe", "pipe"]
    })
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
    const capture = await startCapture()
    const exited = new Promise<number | null>((resolve) => app.once("exit", resolve))
    try {
      const slash = async (command: string, responseUrl: string, user = "UOPS0001") => {
        const body = new URLSearchParams({ token: "x", team_id: "T0001", team_domain: "e", channel_id: "C1", channel_name: "ops", user_id: user, user_name: "olivia", command: "/acct", text: command, api_app_id: "A1", response_url: responseUrl, trigger_id: `${Math.random()}` }).toString()
        const timestamp = String(Math.floor(Date.now() / 1000))
        const response = await fetch(`${url}/slack/events`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": timestamp, "x-slack-signature": sign(SECRET, timestamp, body) },
          body
        })
        return response.status
      }
      // Slack has deprecated user_name: a command without it is answered, and the app lives on.
      const nameless = capture.url()
      const body = new URLSearchParams({ command: "/acct", team_id: "T0001", user_id: "UOPS0001", response_url: nameless, text: "show def-456" }).toString()
      const timestamp = String(Math.floor(Date.now() / 1000))
      const answer = await fetch(`${url}/slack/events`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": timestamp, "x-slack-signature": sign(SECRET, timestamp, body) }, body })
      expect(answer.status).toBe(200)
      expect(text(await capture.next(nameless))).toContain("def-456")

      const show = capture.url()
      expect(await slash("show abc-123", show)).toBe(200)
      expect(text(await capture.next(show))).toContain("j•••@doe.com")

      const denied = capture.url()
      await slash("enable ghi-789", denied, "UNOBODY1")
      expect(text(await capture.next(denied))).toContain("missing permission account.action")
      // Acknowledged just before SIGTERM: still done, then the app exits.
      const enabled = capture.url()
      expect(await slash("enable ghi-789", enabled)).toBe(200)
      app.kill("SIGTERM")
      expect(text(await capture.next(enabled))).toContain(":white_check_mark:")
      expect(await exited).toBe(0)
      expect(log).toContain('"outcome":"denied"')
    } finally {
      app.kill("SIGKILL")
      await capture.close()
    }
  })
})
