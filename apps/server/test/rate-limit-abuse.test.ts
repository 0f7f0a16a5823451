/**
 * Rate limits keyed on what a caller cannot vary at will: five spellings of one key got five
 * budgets, bogus keys were never limited, every bogus key left a counter in memory for good (and a
 * row in Postgres). Now: key id for a verified key, the address for everyone else, counted before
 * the key check; counters expire and are bounded.
 */
import { Agent, request } from "node:http"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { afterAll, describe, expect, it } from "vitest"
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Clock, Effect, Layer, ManagedRuntime } from "effect"
import { boundedMemoryStore, ExpiringCounters, KnownKeys, rateLimit, RateLimitCounters } from "../src/rate-limit.js"
import { startServer } from "./harness.js"
import { freshDatabase, onDatabase, postgresReachable } from "./postgres.js"

const servers: Array<{ close: () => Promise<void> }> = []
afterAll(() => Promise.all(servers.map((s) => s.close())))
const start = async (options: Parameters<typeof startServer>[0]) => {
  const server = await startServer(options)
  servers.push(server)
  return server
}

describe("who a rate limit counts", () => {
  it("gives one key one budget however its header is spelled", async () => {
    const server = await start({ rateLimit: 5 })
    const key = (await server.key(["account.read"], "spelled")).secret
    const spellings = [`Bearer ${key}`, `bearer ${key}`, `BEARER ${key}`, `Bearer  ${key}`, `bEaReR ${key}`, `Bearer ${key}`]
    const statuses: Array<number> = []
    for (const authorization of spellings) statuses.push((await server.call("GET", "/api/v1/accounts", { key: null, headers: { authorization } })).status)
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429])
  })

  it("limits made-up keys from one address like one caller, before looking them up", async () => {
    const server = await start({ rateLimit: 5 })
    // The admin key verified once, so it is counted by its id from now on.
    expect((await server.call("GET", "/api/v1/accounts")).status).toBe(200)
    const statuses: Array<number> = []
    for (let i = 0; i < 12; i++) statuses.push((await server.call("GET", "/api/v1/accounts", { key: `acct_bogus_${i}_${"x".repeat(40)}` })).status)
    // (The admin key's first request above was counted against this address too: 4 left.)
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429, 429])
    // A real key still has its own budget.
    expect((await server.call("GET", "/api/v1/accounts")).status).toBe(200)
  })
})

/** `count` requests with a different bogus key each, 16 at a time on keep-alive connections. */
const flood = async (base: string, count: number) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  const url = new URL(`${base}/api/v1/accounts`)
  let next = 0
  const statuses = new Map<number, number>()
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const req = request({ agent, host: url.hostname, port: url.port, path: url.pathname, headers: { authorization: `Bearer acct_bogus_${i}_${"y".repeat(36)}` } }, (res) => {
        statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1)
        res.resume().on("end", resolve)
      })
      req.on("error", reject).end()
    })
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < count) await one(next++)
  }))
  agent.destroy()
  return statuses
}

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void
const heapAfterGc = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

describe("counters under a flood of bogus keys", () => {
  it("stay bounded: 20,000 different bogus keys cost no memory that stays", async () => {
    const server = await start({ rateLimit: 100 })
    await flood(server.base, 2_000) // warm up: code paths, connections, caches
    const before = heapAfterGc()
    const statuses = await flood(server.base, 20_000)
    const grown = heapAfterGc() - before
    expect(statuses.get(429)).toBeGreaterThan(19_000)
    // One counter: the address. (It was one per bogus key.)
    expect(await server.runtime.runPromise(Effect.map(RateLimitCounters, (counters) => counters.size))).toBe(1)
    // Nothing else kept per request either (the heap's noise here is a few MB; 1 KB a request would be 20 MB).
    expect(grown, `heap grew ${Math.round(grown / 1024 / 1024)} MB`).toBeLessThan(12 * 1024 * 1024)
  }, 120_000)

  it("stay bounded in the limiter itself: 100,000 different bogus keys from one address", async () => {
    // The server's own limiter (middleware, RateLimiter, counters), driven in-process: the HTTP
    // test above pays for sockets and the router 20,000 times; this one sends 100,000.
    const runtime = ManagedRuntime.make(Layer.mergeAll(boundedMemoryStore, KnownKeys.layer).pipe(Layer.provideMerge(RateLimitCounters.layer)))
    try {
      // Past the limiter, the key check refuses every bogus key.
      const limited = rateLimit({ perMinute: 100 })(Effect.succeed(HttpServerResponse.empty({ status: 401 })))
      const statuses = new Map<number, number>()
      // Time stands still, so however slow the machine, all of it falls in one window.
      const stopped: Clock.Clock = {
        [Clock.ClockTypeId]: Clock.ClockTypeId,
        unsafeCurrentTimeMillis: () => 1_000_000,
        currentTimeMillis: Effect.succeed(1_000_000),
        unsafeCurrentTimeNanos: () => 1_000_000_000_000n,
        currentTimeNanos: Effect.succeed(1_000_000_000_000n),
        sleep: () => Effect.void
      }
      // In runs of 5,000, so the event loop (and vitest's worker) gets a turn between them.
      const send = async (from: number, count: number) => {
        for (let run = from; run < from + count; run += 5_000) await sendRun(run, Math.min(5_000, from + count - run))
      }
      const sendRun = (from: number, count: number) =>
        runtime.runPromise(
          Effect.forEach(
            Array.from({ length: count }, (_, i) => from + i),
            (i) => {
              const request = HttpServerRequest.fromWeb(
                new Request("http://acct/api/v1/accounts", { headers: { authorization: `Bearer acct_bogus_${i}_${"z".repeat(36)}` } })
              ).modify({ remoteAddress: "203.0.113.7" })
              return Effect.map(Effect.provideService(limited, HttpServerRequest.HttpServerRequest, request), (response) => {
                statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
              })
            },
            { discard: true }
          ).pipe(Effect.withClock(stopped))
        )
      await send(0, 5_000) // warm up
      const before = heapAfterGc()
      await send(5_000, 100_000)
      const grown = heapAfterGc() - before
      expect(statuses.get(401)).toBe(100)
      expect(statuses.get(429)).toBe(104_900)
      expect(await runtime.runPromise(Effect.map(RateLimitCounters, (counters) => counters.size))).toBe(1)
      // 100 bytes kept per request would be 10 MB.
      expect(grown, `heap grew ${Math.round(grown / 1024 / 1024)} MB`).toBeLessThan(6 * 1024 * 1024)
    } finally {
      await runtime.dispose()
    }
  }, 120_000)

  it("expire, and stay under their cap however many callers there are", () => {
    const counters = new ExpiringCounters(10_000)
    let now = 0
    for (let i = 0; i < 150_000; i++) counters.hit(`acct:ip:10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 1, 600, 100, now++)
    expect(counters.size).toBeLessThanOrEqual(10_000)
    // A minute later every window has expired: the next sweep frees them all.
    now += 120_000
    for (let i = 0; i < 2_000; i++) counters.hit(`acct:key:${i}`, 1, 600, 100, now)
    expect(counters.size).toBeLessThanOrEqual(2_000 + 1024)
    // The counting itself: a window's budget, then refusals until it expires.
    const counts = Array.from({ length: 4 }, () => counters.hit("acct:key:k", 1, 20_000, 3, now)[0])
    expect(counts).toEqual([1, 2, 3, 4])
    expect(counters.hit("acct:key:k", 1, 20_000, 3, now + 60_001)[0]).toBe(1)
  })
})

describe.runIf(postgresReachable)("counters on Postgres", () => {
  it("keep one row per address, not one per bogus key", async () => {
    const database = await freshDatabase("acct_bogus")
    try {
      const server = await start({ database: database.url, rateLimit: 50 })
      // A counter whose window ended long ago is deleted, not kept for good.
      await onDatabase(database.url, (sql) => sql`INSERT INTO rate_limits (limit_key, count, expires_at, rejected) VALUES ('acct:ip:10.0.0.1', 1, 1, 0)`)
      await flood(server.base, 500)
      const rows = await onDatabase(database.url, (sql) => sql<{ limit_key: string }>`SELECT limit_key FROM rate_limits`)
      expect(rows.map((r) => r.limit_key)).toEqual(["acct:ip:127.0.0.1"])
    } finally {
      await database.drop()
    }
  }, 60_000)
})
