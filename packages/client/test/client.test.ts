import { type AccountId, Accounts, Principal, RetryPolicy, type RunResult } from "@acct/core"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AccountsHttp, createClient } from "../src/index.js"
import { startAcct, startProxy, type Fault, type Seen } from "./harness.js"

let acct: Awaited<ReturnType<typeof startAcct>>
beforeAll(async () => {
  acct = await startAcct()
})
afterAll(() => acct.close())

const caller = Principal.make({ actor: { kind: "api-key", id: "t", name: "t" }, scopes: [] })
const inv = { principal: caller, channel: "library" as const }

/** Runs `use` against the Accounts port over HTTP at `url`, with fast retries. */
const remote = <A>(url: string, use: (accounts: Accounts["Type"]) => Effect.Effect<A, unknown>, retry = { maxAttempts: 4, baseDelay: "10 millis" as const }, timeout: string = "2 seconds") =>
  Effect.runPromise(
    Effect.flatMap(Accounts, use).pipe(
      Effect.either,
      Effect.provide(AccountsHttp.layer({ baseUrl: url, apiKey: acct.apiKey, timeout: timeout as never, keyedRetry: retry }).pipe(Layer.provide([FetchHttpClient.layer, RetryPolicy.layer(retry)])))
    )
  )

const runsOn = async (ref: string) => {
  const result = await remote(acct.url, (a) => a.listRuns({ account: { referenceId: ref }, size: 100 }))
  if (result._tag === "Left") throw result.left
  return result.right.items.length
}

describe("AccountsHttp against a real acct server", () => {
  it("does what the local store does, with typed errors", async () => {
    const result = await remote(acct.url, (a) =>
      Effect.gen(function* () {
        const jane = yield* a.get({ referenceId: "abc-123" })
        const page = yield* a.list({ size: 2 })
        const next = yield* a.list({ size: 2, after: page.next! })
        const run = yield* a.runAction({ referenceId: "abc-123" }, "Set status", { status: "activated" }, inv)
        const enabled = yield* a.lifecycle({ referenceId: "ghi-789" }, "enable", inv)
        const types = yield* a.listTypes()
        const notFound = yield* Effect.flip(a.get({ referenceId: "nobody" }))
        const invalid = yield* Effect.flip(a.lifecycle({ referenceId: "ghi-789" }, "activate", inv))
        const unprocessable = yield* Effect.flip(a.runAction({ referenceId: "abc-123" }, "Set status", { status: "sideways" }, inv))
        return { jane, page, next, run, enabled, types, notFound, invalid, unprocessable }
      })
    )
    if (result._tag === "Left") throw result.left
    const r = result.right
    expect(r.jane.fields.name?.value).toMatchObject({ first: { value: "Jane" } })
    expect(r.page.items).toHaveLength(2)
    expect(r.next.items[0]!.id).not.toBe(r.page.items[0]!.id)
    expect(r.run.account.status).toBe("activated")
    expect(r.run.run).toMatchObject({ actionName: "Set status", statusAfter: "activated", actor: { kind: "api-key" } })
    expect(r.enabled.account.status).toBe("activated")
    expect(r.types[0]!.lifecycle).toEqual({ active: "activated", enabled: "deactivated", disabled: "disabled" })
    expect(r.notFound._tag).toBe("NotFound")
    expect(r.invalid._tag).toBe("InvalidState")
    expect(r.invalid.message).toContain("it is Active; activate applies to Enabled accounts")
    expect(r.invalid.message).toMatch(/\(request req_[A-Za-z0-9]{24}\)$/)
    expect(r.unprocessable._tag).toBe("Unprocessable")
  })
})

describe("retries through a fault-injecting proxy", () => {
  const through = async (plan: (n: number, seen: Seen) => Fault, use: (a: Accounts["Type"]) => Effect.Effect<RunResult, unknown>, retry?: Parameters<typeof remote>[2], timeout?: string) => {
    const proxy = await startProxy(acct.port, plan)
    try {
      return { result: await remote(proxy.url, use, retry, timeout), seen: proxy.seen }
    } finally {
      await proxy.close()
    }
  }
  const setStatus = (status: string) => (a: Accounts["Type"]) => a.runAction({ id: janeId }, actionId, { status }, inv)
  let janeId = "" as AccountId
  let actionId = ""
  beforeAll(async () => {
    const found = await remote(acct.url, (a) => Effect.all([a.get({ referenceId: "abc-123" }), a.getAction("Set status")]))
    if (found._tag === "Left") throw found.left
    janeId = found.right[0].id
    actionId = found.right[1].id
  })

  it("retries 503s and connection resets, reusing one Idempotency-Key", async () => {
    const before = await runsOn("abc-123")
    const { result, seen } = await through((n) => (n === 1 ? { kind: "status", status: 503 } : n === 2 ? { kind: "reset" } : { kind: "pass" }), setStatus("deactivated"))
    expect(result._tag).toBe("Right")
    const posts = seen.filter((s) => s.method === "POST")
    expect(posts).toHaveLength(3)
    expect(new Set(posts.map((s) => s.headers["idempotency-key"])).size).toBe(1)
    expect(posts[0]!.headers["idempotency-key"]).toMatch(/^acct-client-/)
    expect(await runsOn("abc-123")).toBe(before + 1)
  })

  it("reports an action that ran from the server's answer when the server cannot give its record of the run", async () => {
    const before = await runsOn("abc-123")
    // As a gateway to Persona answers a read of a run ("not available from Persona's API").
    const noRunRecords = (_: number, seen: Seen): Fault => (seen.method === "GET" && seen.url.startsWith("/api/v1/workflow-runs/") ? { kind: "status", status: 400 } : { kind: "pass" })
    const { result, seen } = await through(noRunRecords, setStatus("deactivated"))
    if (result._tag === "Left") throw result.left
    const { account, run } = result.right
    const key = seen.find((s) => s.method === "POST")!.headers["idempotency-key"]
    expect(seen.some((s) => s.url.startsWith("/api/v1/workflow-runs/"))).toBe(true)
    expect(account).toMatchObject({ id: janeId, status: "deactivated" })
    expect(run).toMatchObject({ accountId: janeId, actionId, actionName: actionId, status: "succeeded", parameters: { status: "deactivated" }, statusBefore: "", statusAfter: "deactivated", events: [], idempotencyKey: key, actor: caller.actor })
    expect(run.id).toMatch(/^wfr_/)
    expect(await runsOn("abc-123")).toBe(before + 1)
  })

  it("never runs an action twice when the answer is lost after the server ran it", async () => {
    const before = await runsOn("abc-123")
    const { result, seen } = await through((n) => (n === 1 ? { kind: "reset-after-forward" } : { kind: "pass" }), setStatus("activated"))
    expect(result._tag).toBe("Right")
    expect(seen.filter((s) => s.method === "POST")).toHaveLength(2)
    expect(await runsOn("abc-123")).toBe(before + 1)
  })

  it("honours Retry-After on 429", async () => {
    const started = Date.now()
    const { result, seen } = await through((n) => (n === 1 ? { kind: "status", status: 429, headers: { "retry-after": "1" } } : { kind: "pass" }), setStatus("deactivated"))
    expect(result._tag).toBe("Right")
    expect(seen.filter((s) => s.method === "POST")).toHaveLength(2)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
  })

  it("retries a timed-out attempt with the same key", async () => {
    const before = await runsOn("abc-123")
    const { result, seen } = await through((n) => (n === 1 ? { kind: "delay", ms: 700 } : { kind: "pass" }), setStatus("activated"), { maxAttempts: 3, baseDelay: "10 millis" }, "300 millis")
    expect(result._tag).toBe("Right")
    const posts = seen.filter((s) => s.method === "POST")
    expect(posts.length).toBeGreaterThanOrEqual(2)
    expect(new Set(posts.map((s) => s.headers["idempotency-key"])).size).toBe(1)
    // The slow first attempt still ran on the server; the retry replayed it.
    await new Promise((r) => setTimeout(r, 800))
    expect(await runsOn("abc-123")).toBe(before + 1)
  })

  it("gives up after maxAttempts with the last error, and never retries a 4xx", async () => {
    const down = await through(() => ({ kind: "status", status: 503 }), setStatus("activated"), { maxAttempts: 3, baseDelay: "10 millis" })
    expect(down.result._tag).toBe("Left")
    expect(down.result._tag === "Left" && (down.result.left as { _tag: string })._tag).toBe("Unavailable")
    expect(down.seen.filter((s) => s.method === "POST")).toHaveLength(3)
    const bad = await through(() => ({ kind: "pass" }), setStatus("sideways"))
    expect(bad.result._tag === "Left" && (bad.result.left as { _tag: string })._tag).toBe("Unprocessable")
    expect(bad.seen.filter((s) => s.method === "POST")).toHaveLength(1)
  })
})

describe("Promise client", () => {
  it("runs an action from plain async code and rejects with typed errors", async () => {
    const client = createClient({ baseUrl: acct.url, apiKey: acct.apiKey })
    try {
      const { account, run } = await client.runAction("abc-123", "Set status", { status: "pending" })
      expect(account.status).toBe("pending")
      expect(run.id).toMatch(/^wfr_/)
      await expect(client.getAccount("no-such-ref")).rejects.toMatchObject({ _tag: "NotFound", status: 404 })
      await expect(client.lifecycle("act_123", "enable")).rejects.toMatchObject({ _tag: "InvalidRequest" })
    } finally {
      await client.close()
    }
  })
})
