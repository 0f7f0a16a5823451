/**
 * The Promise client against the built server: the whole Accounts port, request ids on every
 * error, and honesty about keys and lost answers (including a server restart mid-call).
 */
import { RetryPolicy, Unavailable } from "@acct/core"
import { it as effectIt } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, TestClock } from "effect"
import { mkdtempSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type AcctClient, AcctError, createClient, KEYED_RETRY } from "../src/index.js"
import { startAcct, startProxy } from "./harness.js"

let acct: Awaited<ReturnType<typeof startAcct>>
let client: AcctClient
beforeAll(async () => {
  acct = await startAcct()
  client = createClient({ baseUrl: acct.url, apiKey: acct.apiKey })
})
afterAll(async () => {
  await client.close()
  await acct.close()
})

const collect = async <A>(items: AsyncIterable<A>) => {
  const all: Array<A> = []
  for await (const item of items) all.push(item)
  return all
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable("expected a rejection"),
    (e: unknown) => {
      expect(e).toBeInstanceOf(AcctError)
      return e as AcctError
    }
  )

describe("Promise client: the whole Accounts port", () => {
  it("acts on behalf of a person (Acct-On-Behalf-Of) with a reason: the run names the person and the key", async () => {
    const { run } = await client.runAction("def-456", "Set status", { status: "activated" }, { onBehalfOf: "slack:T0009/U0009", reason: "asked in #support" })
    expect(run.actor).toMatchObject({ kind: "slack", id: "T0009/U0009" })
    expect(run.via).toMatchObject({ kind: "api-key" })
    const refused = await rejection(client.addTag("def-456", "x", { onBehalfOf: "somebody" }))
    expect(refused).toMatchObject({ _tag: "InvalidRequest" })
    expect(refused.message).toContain("onBehalfOf: expected a person as kind:id")
  })

  it("relates accounts and imports a CSV", async () => {
    await client.createAccount({ accountType: "User", referenceId: "promise-rel-1" })
    await client.createAccount({ accountType: "User", referenceId: "promise-rel-2" })
    const related = await client.addRelation("promise-rel-1", "household", "promise-rel-2", { idempotencyKey: "promise-relate-1" })
    expect(related.idempotencyKey).toBe("promise-relate-1")
    expect((await client.listRelations("promise-rel-1", "household")).items.map((a) => a.referenceId)).toEqual(["promise-rel-2"])
    await client.removeRelation("promise-rel-1", "household", "promise-rel-2")
    expect((await client.listRelations("promise-rel-1", "household")).items).toEqual([])

    const { importer } = await client.importAccounts("reference_id,name_first,birthdate\npromise-imp-1,Ada,1815-12-10\npromise-imp-2,Alan,1912-13-23\n")
    let current = importer
    while (current.status === "pending") current = await client.getImporter(importer.id)
    expect(current).toMatchObject({ status: "ready", rowCount: 2, successfulCount: 1, errorCount: 1 })
    expect((await client.listImportErrors(importer.id)).items).toEqual([{ row: 3, column: "birthdate", problem: "expected a date as YYYY-MM-DD" }])
    expect((await client.listImporters()).items.map((i) => i.id)).toContain(importer.id)
    expect((await rejection(client.getImporter("nope")))._tag).toBe("InvalidRequest")
  })

  it("creates, updates, tags, consolidates, redacts, and reads types, actions and runs", async () => {
    const created = await client.createAccount({ accountType: "User", referenceId: "promise-1", fields: { email_address: "p1@example.com" } }, { idempotencyKey: "promise-create-1" })
    expect(created).toMatchObject({ idempotencyKey: "promise-create-1", account: { referenceId: "promise-1" } })
    const donor = await client.createAccount({ accountType: "User", referenceId: "promise-2", fields: { phone_number: "555-0102" } })
    expect(donor.idempotencyKey).toMatch(/^acct-client-/)

    const updated = await client.updateAccount("promise-1", { fields: { phone_number: "555-0101" } })
    expect(updated.account.fields.phone_number?.value).toBe("555-0101")
    expect((await client.addTag("promise-1", "gold")).account.tags).toContain("gold")
    expect((await client.removeTag("promise-1", "gold")).account.tags).not.toContain("gold")
    expect((await client.setTags("promise-1", ["a", "b"])).account.tags).toEqual(["a", "b"])
    expect((await client.changeTags("promise-1", { add: ["c", "d"], remove: ["a"] })).account.tags).toEqual(["b", "c", "d"])
    const merged = await client.consolidate("promise-1", ["promise-2"])
    expect(merged.account.fields.phone_number?.value).toBe("555-0101")
    expect(merged.idempotencyKey).toMatch(/^acct-client-/)

    const types = await client.listTypes()
    expect((await client.getType("User")).id).toBe(types.find((t) => t.name === "User")!.id)
    const actions = await client.listActions({ accountType: "User" })
    expect((await client.getAction("Set status")).id).toBe(actions.find((a) => a.name === "Set status")!.id)

    const ran = await client.runAction("promise-1", "Set status", { status: "activated" })
    expect(ran.run.id).toMatch(/^wfr_/)
    const lifecycle = await client.lifecycle("promise-1", "deactivate", { idempotencyKey: "promise-deactivate-1" })
    expect(lifecycle).toMatchObject({ idempotencyKey: "promise-deactivate-1", account: { status: "deactivated" } })
    expect((await client.getRun(ran.run.id)).id).toBe(ran.run.id)
    const runs = await collect(client.runs({ account: "promise-1", size: 1 }))
    expect(runs.map((r) => r.id)).toEqual(expect.arrayContaining([ran.run.id, lifecycle.run.id]))
    expect((await client.listRuns({ account: "promise-1", size: 1 })).items).toHaveLength(1)

    const redacted = await client.redactAccount("promise-1")
    expect(redacted.account.redactedAt).not.toBeNull()
    expect(redacted.account.fields.email_address?.value ?? null).toBeNull()
  })

  it("pages through every account with an async iterator", async () => {
    const page = await client.listAccounts({ size: 2 })
    expect(page.items).toHaveLength(2)
    const all = await collect(client.accounts({ size: 1 }))
    const everyOne = await collect(client.accounts({ size: 100 }))
    expect(all.map((a) => a.id)).toEqual(everyOne.map((a) => a.id))
    expect(new Set(all.map((a) => a.id)).size).toBe(all.length)
    expect(all.length).toBeGreaterThan(2)
    expect((await collect(client.accounts({ tag: "vip" }))).map((a) => a.referenceId)).toContain("def-456")
  })

  it("searches in Persona's query language, a page or every page, and refuses a bad predicate by its path", async () => {
    const vip = { query: { attribute: "tags", operator: "eq", value: "vip" } } as const
    const page = await client.searchAccounts({ ...vip, sort: { attribute: "identifiers.reference_id", direction: "asc" }, size: 1 })
    expect(page.items.map((a) => a.referenceId)).toEqual(["def-456"])
    expect(page.next).toBe(page.items[0]!.id)
    expect((await collect(client.search({ ...vip, size: 1 }))).map((a) => a.referenceId).sort()).toEqual(["def-456", "ghi-789"])
    const refused = await rejection(client.searchAccounts({ query: { attribute: "fields.phone_number", operator: "eq", value: "1" } }))
    expect(refused._tag).toBe("InvalidRequest")
    expect(refused.message).toMatch(/^query\.attribute: "fields\.phone_number" is not a searchable field/)
  })

  it("every error carries the server's request id, a NotFound by reference id too", async () => {
    const byRef = await rejection(client.getAccount("nobody-here"))
    expect(byRef).toMatchObject({ _tag: "NotFound", status: 404, retryable: false })
    expect(byRef.requestId).toMatch(/^req_/)
    expect(byRef.message).toContain(`(request ${byRef.requestId})`)
    const byId = await rejection(client.getAccount("act_aaaaaaaaaaaaaaaaaaaaaaaa"))
    expect(byId.requestId).toMatch(/^req_/)
    const refused = await rejection(client.runAction("abc-123", "Set status", { status: "sideways" }, { idempotencyKey: "promise-bad-1" }))
    expect(refused).toMatchObject({ _tag: "Unprocessable", idempotencyKey: "promise-bad-1", maybeApplied: false })
    expect(refused.requestId).toMatch(/^req_/)
  })
})

describe("honest client", () => {
  const runsOf = async (ref: string) => (await collect(client.runs({ account: ref, size: 100 }))).length

  it("a change whose answer was lost says it may have been applied, with its key; repeating the key replays it", async () => {
    const before = await runsOf("ghi-789")
    // Every POST reaches the server, which runs it, and every answer is lost.
    const proxy = await startProxy(acct.port, (_n, seen) => (seen.method === "POST" ? { kind: "reset-after-forward" } : { kind: "pass" }))
    const lossy = createClient({ baseUrl: proxy.url, apiKey: acct.apiKey, keyedRetry: { maxAttempts: 2, baseDelay: "10 millis" } })
    try {
      const lost = await rejection(lossy.runAction("ghi-789", "Set status", { status: "pending" }, { idempotencyKey: "honest-lost-1" }))
      expect(lost).toMatchObject({ _tag: "Unavailable", idempotencyKey: "honest-lost-1", maybeApplied: true })
      expect(lost.message).toContain("may have been applied")
      expect(lost.message).toContain("honest-lost-1")
    } finally {
      await lossy.close()
      await proxy.close()
    }
    expect(await runsOf("ghi-789")).toBe(before + 1)
    const replayed = await client.runAction("ghi-789", "Set status", { status: "pending" }, { idempotencyKey: "honest-lost-1" })
    expect(replayed.account.status).toBe("pending")
    expect(await runsOf("ghi-789")).toBe(before + 1)
  })

  it("a change that never reached a server says it was not applied, with the key it would have used", async () => {
    const nowhere = createClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, apiKey: "acct_x", keyedRetry: { maxAttempts: 2, baseDelay: "10 millis" } })
    try {
      const refused = await rejection(nowhere.addTag("abc-123", "x", { idempotencyKey: "honest-refused-1" }))
      expect(refused).toMatchObject({ _tag: "Unavailable", idempotencyKey: "honest-refused-1", maybeApplied: false })
      expect(refused.message).not.toContain("may have been applied")
    } finally {
      await nowhere.close()
    }
  })

  it("a keyed change keeps retrying while the server restarts on the same port, and is applied once", async () => {
    const port = await freePort()
    const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-restart-")), "acct.db")
    const env = { PORT: String(port), ACCT_DATABASE: database }
    let server = await startAcct(env)
    const restarting = createClient({ baseUrl: server.url, apiKey: server.apiKey })
    try {
      const before = (await collect(restarting.runs({ account: "abc-123", size: 100 }))).length
      await server.close()
      let settled = false
      const call = restarting.runAction("abc-123", "Set status", { status: "deactivated" }).finally(() => (settled = true))
      await new Promise((r) => setTimeout(r, 3000))
      expect(settled).toBe(false)
      server = await startAcct({ ...env, ACCT_BOOTSTRAP_KEY: server.apiKey })
      const done = await call
      expect(done.account.status).toBe("deactivated")
      expect(done.idempotencyKey).toMatch(/^acct-client-/)
      expect((await collect(restarting.runs({ account: "abc-123", size: 100 }))).length).toBe(before + 1)
    } finally {
      await restarting.close()
      await server.close()
    }
  }, 60_000)
})

/** The default keyed policy outlasts a 30-second outage (TestClock: no real waiting). */
effectIt.effect("by default a keyed change retries through 30 s of refused connections", () =>
  Effect.gen(function* () {
    const policy = yield* RetryPolicy.make(KEYED_RETRY)
    let attempts = 0
    const outage = Effect.gen(function* () {
      attempts++
      const now = yield* Clock.currentTimeMillis
      if (now < Duration.toMillis("30 seconds")) return yield* Effect.fail(new Unavailable({ message: "cannot reach acct" }))
      return "applied"
    })
    const fiber = yield* Effect.fork(policy.retry(outage))
    yield* TestClock.adjust("40 seconds")
    expect(yield* Fiber.join(fiber)).toBe("applied")
    expect(attempts).toBeGreaterThan(10)
    expect(yield* policy.budget).toBeGreaterThan(0)
  })
)

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
