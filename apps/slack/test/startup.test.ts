/**
 * The built app's start: where it listens (HOST, loopback by default), and failed starts as one
 * line on standard error and exit 1 (port in use, a policy that cannot be read or is invalid).
 */
import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { SECRET } from "./harness.js"

const APP = fileURLToPath(new URL("../dist/slack.mjs", import.meta.url))
const CLI = fileURLToPath(new URL("../../cli/dist/acct.mjs", import.meta.url))

const demoDatabase = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "acct-slack-start-"))
  const database = path.join(dir, "acct.db")
  expect(spawnSync(process.execPath, [CLI, "init", "--demo", "--db", database]).status).toBe(0)
  return { dir, database }
}

const env = (extra: Record<string, string>) => {
  const base: Record<string, string | undefined> = { ...process.env, SLACK_SIGNING_SECRET: SECRET, PORT: "0", ...extra }
  delete base.HOST
  if (extra.HOST !== undefined) base.HOST = extra.HOST
  return base
}

/** Runs the app expecting it to fail at start: its exit code and standard error. */
const failedStart = (extra: Record<string, string>) => {
  const result = spawnSync(process.execPath, [APP], { env: env(extra), encoding: "utf8", timeout: 15_000 })
  return { status: result.status, stderr: result.stderr, stdout: result.stdout }
}

describe("starting the built Slack app", () => {
  it("listens on 127.0.0.1 unless HOST says otherwise", async () => {
    const { database } = demoDatabase()
    const app = spawn(process.execPath, [APP], { env: env({ ACCT_DATABASE: database }), stdio: ["ignore", "pipe", "pipe"] })
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = ""
        app.stdout!.on("data", (chunk: Buffer) => {
          out += chunk
          if (out.includes("\n")) resolve(out.split("\n")[0]!)
        })
        app.once("exit", (code) => reject(new Error(`exited ${code}`)))
      })
      expect(JSON.parse(line).message).toMatch(/^Listening on http:\/\/127\.0\.0\.1:\d+\/slack\/events$/)
    } finally {
      app.kill("SIGKILL")
    }
  })

  it("says in one line that the port is in use, and exits 1", async () => {
    const { database } = demoDatabase()
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
    const port = (taken.address() as AddressInfo).port
    try {
      const result = failedStart({ ACCT_DATABASE: database, PORT: String(port), HOST: "127.0.0.1" })
      expect(result.status).toBe(1)
      expect(result.stderr).toBe(`acct-slack: cannot listen on 127.0.0.1:${port}: the port is already in use (another process listens on it)\n`)
    } finally {
      taken.close()
    }
  })

  it("refuses a local database that is not there, saying how to create one, and creates nothing", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "acct-slack-start-"))
    const database = path.join(dir, "typo", "acct.db")
    const result = failedStart({ ACCT_DATABASE: database })
    expect(result.status).toBe(1)
    expect(result.stderr).toBe(
      `acct-slack: cannot open the backend (local store ${database}): there is no acct database at ${database}; create one with \`acct init --db ${database}\` (add --demo for demo data), or point ACCT_DATABASE at an existing one\n`
    )
    expect(existsSync(path.join(dir, "typo"))).toBe(false)
  })

  it("names the policy file, the path and the problem when the policy is unreadable or invalid", () => {
    const { dir, database } = demoDatabase()
    const missing = failedStart({ ACCT_DATABASE: database, ACCT_SLACK_POLICY: path.join(dir, "nope.yaml") })
    expect(missing.status).toBe(1)
    expect(missing.stderr).toMatch(/^acct-slack: cannot read ACCT_SLACK_POLICY .*nope\.yaml: ENOENT[^\n]*\n$/)

    const policy = path.join(dir, "policy.yaml")
    writeFileSync(policy, "grants:\n  - users: [bob]\n    scopes: [account.everything]\n")
    const invalid = failedStart({ ACCT_DATABASE: database, ACCT_SLACK_POLICY: policy })
    expect(invalid.status).toBe(1)
    expect(invalid.stderr).toBe(
      `acct-slack: ${policy}: invalid Slack policy: grants[0].users[0]: expected a Slack user id (U… or W…); grants[0].scopes[0]: expected one of "account.read", "account.write", "account.action", "account.redact", "account.delegate", "webhook.read", "webhook.write", "admin"; got "account.everything"\n`
    )

    writeFileSync(policy, "grants: [\n")
    const broken = failedStart({ ACCT_DATABASE: database, ACCT_SLACK_POLICY: policy })
    expect(broken.status).toBe(1)
    expect(broken.stderr).toMatch(new RegExp(`^acct-slack: ${policy.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not valid YAML: [^\\n]*\\n$`))
  })
})
