/**
 * `npm start` (scripts/start.mjs) on a port another process holds: it says so and exits 1, and
 * never prints its banner for a server it did not start.
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const START = fileURLToPath(new URL("../../../scripts/start.mjs", import.meta.url))

const run = (env: Record<string, string>, cwd: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [START], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    // A hang would be the bug (a server started, or a banner awaited): stop it and say so.
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

describe("npm start on a port already in use", () => {
  let other: Server
  let port = 0

  beforeAll(async () => {
    // Another program answering every request with 200, /readyz included.
    other = createServer((_, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"data":[]}'))
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve))
    port = (other.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => other.close(() => resolve())))

  it("reports the port problem and exits 1, without a banner", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "acct-start-"))
    const result = await run({ PORT: String(port), HOST: "127.0.0.1" }, cwd)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use by another process`)
    expect(result.stdout).not.toContain("acct is running")
    expect(existsSync(path.join(cwd, ".acct"))).toBe(false)
  })
})
