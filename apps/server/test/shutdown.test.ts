import { spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { request } from "node:http"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const SERVER = fileURLToPath(new URL("../dist/server.mjs", import.meta.url))
const KEY = "acct_shutdown_test_key_000000000000"

describe("graceful shutdown (the built server as a subprocess)", () => {
  it("finishes a request in flight when SIGTERM arrives, then exits 0", async () => {
    const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-shutdown-")), "acct.db")
    const server = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: "0", ACCT_DATABASE: database, ACCT_BOOTSTRAP_KEY: KEY }, stdio: ["ignore", "pipe", "pipe"] })
    let log = ""
    const url = await new Promise<URL>((resolve, reject) => {
      server.stdout!.on("data", (chunk: Buffer) => {
        log += chunk
        const found = /Listening on (http:\/\/[\d.:]+)/.exec(log)
        if (found) resolve(new URL(found[1]!))
      })
      setTimeout(() => reject(new Error(`no start: ${log}`)), 15_000)
    })
    const exited = new Promise<number | null>((resolve) => server.once("exit", resolve))

    const body = JSON.stringify({ meta: { "tag-name": "drained" } })
    const response = new Promise<number>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, method: "POST", path: "/api/v1/accounts/act_000000000000000000000000/add-tag", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
        (res) => resolve(res.statusCode ?? 0)
      )
      req.on("error", reject)
      // Half the body now; SIGTERM; the rest a moment later.
      req.write(body.slice(0, 10))
      setTimeout(() => server.kill("SIGTERM"), 100)
      setTimeout(() => req.end(body.slice(10)), 400)
    })
    expect(await response).toBe(404) // answered (the account does not exist), not cut off
    expect(await exited).toBe(0)
    expect(log).toContain("shutting down: not ready")
  })
})
