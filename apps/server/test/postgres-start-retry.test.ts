/**
 * A Postgres that is unreachable for a moment while the server starts (restarting, a failover)
 * does not stop the start: the built server keeps trying for ACCT_DB_CONNECT_RETRY_SECONDS,
 * then serves; past that window it exits 1 with one line saying why. A TCP proxy in front of
 * the machine's Postgres plays the outage: it resets (or refuses) the first connections.
 */
import { spawn } from "node:child_process"
import { createServer, type Server, Socket } from "node:net"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { adminUrl, freshDatabase, postgresReachable } from "./postgres.js"

const SERVER = fileURLToPath(new URL("../dist/server.mjs", import.meta.url))
const upstream = new URL(adminUrl)

/** Resets every connection until `healthy(resets so far)` says otherwise, then forwards to the real Postgres. */
const flakyProxy = async (healthy: (resets: number) => boolean) => {
  let resets = 0
  const server: Server = createServer((client) => {
    if (!healthy(resets)) {
      resets++
      client.resetAndDestroy()
      return
    }
    const target = new Socket()
    target.connect(Number(upstream.port || 5432), upstream.hostname)
    client.pipe(target).pipe(client)
    client.on("error", () => target.destroy())
    target.on("error", () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as { port: number }).port
  return { port, resets: () => resets, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

const lines = (text: string) =>
  text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { message: string; logLevel: string })

/** Runs the built server until it prints its address (then stops it) or exits by itself. */
const run = (env: Record<string, string>) =>
  new Promise<{ code: number | null; listened: boolean; out: string }>((resolve) => {
    const child = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ACCT_SHUTDOWN_READINESS_DELAY_SECONDS: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let listened = false
    const kill = setTimeout(() => child.kill("SIGKILL"), 40_000)
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk
      if (!listened && out.includes("Listening on")) {
        listened = true
        child.kill("SIGTERM")
      }
    })
    child.stderr.on("data", (chunk: Buffer) => void (out += chunk))
    child.once("exit", (code) => {
      clearTimeout(kill)
      resolve({ code, listened, out })
    })
  })

const databases: Array<{ drop: () => Promise<unknown> }> = []
afterAll(async () => {
  for (const database of databases) await database.drop()
})

const throughProxy = (databaseUrl: string, port: number) => Object.assign(new URL(databaseUrl), { host: `127.0.0.1:${port}` }).toString()

describe.skipIf(!postgresReachable)("a start while Postgres is unreachable (the built server as a subprocess)", () => {
  it("keeps trying with backoff and starts once Postgres answers", async () => {
    const database = await freshDatabase("httpperf_start_retry")
    databases.push(database)
    // Counted, not timed: a loaded machine may take seconds to reach its first connection.
    const proxy = await flakyProxy((resets) => resets >= 3)
    try {
      const result = await run({ ACCT_DATABASE: throughProxy(database.url, proxy.port), ACCT_DB_CONNECT_RETRY_SECONDS: "20" })
      expect(result.listened, result.out).toBe(true)
      expect(proxy.resets()).toBe(3)
      const logged = lines(result.out)
      expect(logged.some((l) => l.logLevel === "WARN" && l.message === "Postgres unreachable at start; trying again")).toBe(true)
      expect(logged.filter((l) => l.logLevel === "ERROR")).toEqual([])
    } finally {
      await proxy.close()
    }
  }, 60_000)

  it("gives up after the window with one line saying why, exit code 1", async () => {
    const database = await freshDatabase("httpperf_start_retry")
    databases.push(database)
    const proxy = await flakyProxy(() => false)
    try {
      const started = Date.now()
      const result = await run({ ACCT_DATABASE: throughProxy(database.url, proxy.port), ACCT_DB_CONNECT_RETRY_SECONDS: "2" })
      const took = Date.now() - started
      expect(result.code).toBe(1)
      expect(result.listened).toBe(false)
      const errors = lines(result.out).filter((l) => l.logLevel === "ERROR").map((l) => l.message)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatch(/^acct-server cannot start: cannot use Postgres at postgres:\/\/postgres@127\.0\.0\.1:\d+\/httpperf_start_retry_\w+: .*\(still unreachable after trying for 2s\)$/)
      expect(result.out).not.toMatch(/\bat .*\.(m?js|ts):\d+/)
      // Bounded: the window and one last try, not the library's defaults.
      expect(took).toBeLessThan(15_000)
      expect(proxy.resets()).toBeGreaterThan(2)
    } finally {
      await proxy.close()
    }
  }, 60_000)

  it("with a window of 0, fails at the first try (the old behaviour, for those who want it)", async () => {
    const proxy = await flakyProxy(() => false)
    try {
      const result = await run({ ACCT_DATABASE: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`, ACCT_DB_CONNECT_RETRY_SECONDS: "0" })
      expect(result.code).toBe(1)
      expect(proxy.resets()).toBe(1)
      const errors = lines(result.out).filter((l) => l.logLevel === "ERROR").map((l) => l.message)
      expect(errors).toHaveLength(1)
      expect(errors[0]).not.toContain("still unreachable")
    } finally {
      await proxy.close()
    }
  }, 30_000)
})
