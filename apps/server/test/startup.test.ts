/**
 * A start that cannot succeed (a bad setting, a database directory that cannot be made, a port
 * in use) ends at once with exit code 1 and one JSON log line saying why: no stack trace, and
 * never a hang.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, symlinkSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const SERVER = fileURLToPath(new URL("../dist/server.mjs", import.meta.url))

const start = (env: Record<string, string>) => {
  const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-startup-")), "acct.db")
  const run = spawnSync(process.execPath, [SERVER], { env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ACCT_DATABASE: database, ...env }, encoding: "utf8", timeout: 20_000 })
  const errors = run.stdout
    .split("\n")
    .filter((line) => line.includes('"logLevel":"ERROR"'))
    .map((line) => JSON.parse(line) as { message: string })
  return { code: run.status, errors, output: run.stdout + run.stderr }
}

const expectRefusal = (result: ReturnType<typeof start>, reason: string) => {
  expect(result.code).toBe(1)
  expect(result.errors.map((e) => e.message)).toEqual([`acct-server cannot start: ${reason}`])
  expect(result.output).not.toMatch(/\bat .*\.(m?js|ts):\d+/)
}

describe("a start that cannot succeed (the built server as a subprocess)", () => {
  it("names the setting that is wrong", () => {
    expectRefusal(start({ PORT: "eighty" }), '(Invalid data at PORT: "Expected an integer value but received "eighty"")')
    expectRefusal(start({ LOG_LEVEL: "loud" }), '(Invalid data at : "LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, none; got "loud"")')
  })

  it("names a database directory it cannot make, without hanging on it", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "acct-startup-"))
    symlinkSync(path.join(dir, "unmounted"), path.join(dir, "data"))
    const database = path.join(dir, "data", "acct.db")
    expectRefusal(start({ ACCT_DATABASE: database }), `cannot create the database directory for ${database}: ${path.join(dir, "data")} is a symbolic link to ${path.join(dir, "unmounted")}, which does not exist`)
    if (existsSync("/proc/self")) {
      expectRefusal(start({ ACCT_DATABASE: "/proc/acct-test/acct.db" }), "cannot create the database directory for /proc/acct-test/acct.db: ENOENT: no such file or directory, mkdir '/proc/acct-test'")
    }
  })

  it("says when its port is taken", async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
    const port = (taken.address() as { port: number }).port
    try {
      expectRefusal(start({ PORT: String(port) }), `cannot listen: listen EADDRINUSE: address already in use 127.0.0.1:${port}`)
    } finally {
      taken.close()
    }
  })
})

describe("the bootstrap key", () => {
  it("refuses one too short to be secret, without showing it", () => {
    const result = start({ ACCT_BOOTSTRAP_KEY: "Adm1n-s3cret" })
    expectRefusal(result, "(Invalid data at : \"ACCT_BOOTSTRAP_KEY must be at least 32 characters (a shorter key can be guessed); make one with: openssl rand -hex 24\")")
    expect(result.output).not.toContain("Adm1n-s3cret")
  })
})
