/**
 * From the moment of spawn, probes on the port: every connection the server accepts gets an
 * answer (503 with Retry-After while it starts, then 200). On Postgres the port used to accept
 * connections about a second before the handler was attached: 18 of 40 probes got no answer.
 */
import { spawn } from "node:child_process"
import { request } from "node:http"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { freshDatabase, postgresReachable } from "./postgres.js"

const SERVER = fileURLToPath(new URL("../dist/server.mjs", import.meta.url))

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })

type Probe = { readonly outcome: "refused" | "unanswered" | "answered"; readonly status?: number; readonly retryAfter?: string | undefined }

const probe = (port: number) =>
  new Promise<Probe>((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/readyz", agent: false, timeout: 3000 }, (res) => {
      res.resume()
      resolve({ outcome: "answered", status: res.statusCode!, retryAfter: res.headers["retry-after"] as string | undefined })
    })
    req.on("timeout", () => {
      req.destroy()
      resolve({ outcome: "unanswered" })
    })
    req.on("error", (error: NodeJS.ErrnoException) => resolve({ outcome: error.code === "ECONNREFUSED" ? "refused" : "unanswered" }))
    req.end()
  })

describe.runIf(postgresReachable)("start-up on a fresh Postgres database (the built server as a subprocess)", () => {
  it("answers every connection it accepts, from the moment of spawn", async () => {
    const database = await freshDatabase("acct_startup")
    const port = await freePort()
    const server = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", ACCT_DATABASE: database.url, LOG_LEVEL: "warn" }, stdio: "ignore" })
    try {
      const probes: Array<Promise<Probe>> = []
      let ready = false
      const started = Date.now()
      while (!ready && Date.now() - started < 20_000) {
        const next = probe(port)
        probes.push(next)
        void next.then((p) => (ready ||= p.status === 200))
        await new Promise((resolve) => setTimeout(resolve, 15))
      }
      const results = await Promise.all(probes)
      expect(ready).toBe(true)
      expect(results.filter((r) => r.outcome === "unanswered")).toEqual([])
      for (const r of results.filter((r) => r.outcome === "answered" && r.status !== 200)) expect(r).toEqual({ outcome: "answered", status: 503, retryAfter: "1" })
    } finally {
      server.kill("SIGKILL")
      await database.drop()
    }
  }, 60_000)
})
