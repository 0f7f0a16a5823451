import { Accounts, Events, Webhooks } from "@acct/core"
import { makeWebhookQueue } from "@acct/store-sql"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, RuntimeFlags, RuntimeFlagsPatch, Supervisor, TestClock } from "effect"
import { runDispatcher, startDispatcher } from "../src/index.js"
import { as, quick, tempDb, testStore } from "./harness.js"
import { type Behaviour, personaSignatureValid, startReceiver, standardWebhookValid } from "./receiver.js"

const receiver = (behave?: Parameters<typeof startReceiver>[0]) => Effect.acquireRelease(Effect.promise(() => startReceiver(behave)), (r) => Effect.promise(() => r.close()))
const until = (r: Effect.Effect.Success<ReturnType<typeof receiver>>, predicate: Parameters<typeof r.until>[0], ms?: number) => Effect.promise(() => r.until(predicate, ms))

/** A webhook to the receiver, enabled; answers it with its secret. */
const endpoint = (url: string, settings: Partial<Parameters<Webhooks["Type"]["create"]>[0]> = {}) =>
  Effect.gen(function* () {
    const webhooks = yield* Webhooks
    const made = yield* webhooks.create({ name: "test", url, enabledEvents: ["*"], ...settings })
    yield* webhooks.setStatus(made.webhook.id, "enabled")
    return { id: made.webhook.id, secret: made.secrets[0]!.value }
  })

const attemptsOf = (webhookId: string) => Effect.flatMap(makeWebhookQueue, (q) => q.attempts(webhookId, 100))

/** The endpoint's attempts once at least one is recorded. */
const firstRecorded = (webhookId: string) =>
  Effect.gen(function* () {
    let attempts = yield* attemptsOf(webhookId)
    while (attempts.length === 0) {
      yield* Effect.sleep("50 millis")
      attempts = yield* attemptsOf(webhookId)
    }
    return attempts
  })

describe("webhook delivery (SQLite, receiver on loopback)", () => {
  it.live("delivers every event kind once, verifiable with standardwebhooks and Persona's check", () =>
    Effect.gen(function* () {
      const r = yield* receiver()
      const hook = yield* endpoint(`${r.url}/hook`)
      yield* Effect.forkScoped(runDispatcher(quick()))
      const accounts = yield* Accounts
      const made = yield* accounts.create({ accountType: "User", referenceId: "wh-1", tags: ["a"], fields: { email_address: "a@example.com" } }, as)
      const ref = { id: made.id }
      yield* accounts.addTag(ref, "b", as)
      yield* accounts.removeTag(ref, "a", as)
      yield* accounts.update(ref, { fields: { email_address: "b@example.com" } }, as)
      yield* accounts.runAction(ref, "Set status", { status: "activated" }, as)
      yield* accounts.runAction(ref, "Suspend for review", { reason: "check" }, as)
      const other = yield* accounts.create({ accountType: "User", tags: ["dup"] }, as)
      yield* accounts.consolidate(ref, [{ id: other.id }], as)
      yield* accounts.redact(ref, as)

      const events = yield* Events
      const page = yield* events.list({ size: 100, accountId: made.id })
      const otherPage = yield* events.list({ size: 100, accountId: other.id })
      const committed = [...page.items, ...otherPage.items]
      const got = yield* until(r, (all) => new Set(all.map((x) => x.headers["webhook-id"])).size >= committed.length)
      expect(new Set(got.map((x) => x.headers["webhook-id"]))).toEqual(new Set(committed.map((e) => e.id)))
      expect(new Set(got.map((x) => x.json.data.attributes.name))).toEqual(
        new Set([
          "account.created",
          "account.tag-added",
          "account.tag-removed",
          "account.updated-tags",
          "account.updated-fields",
          "account.status-updated",
          "workflow-run.created",
          "account.suspended",
          "account.consolidated",
          "account.consolidated-with",
          "account.archived",
          "account.redacted"
        ])
      )
      for (const delivery of got) {
        expect(standardWebhookValid(delivery.headers, hook.secret, delivery.body), delivery.body.slice(0, 80)).toBe(true)
        expect(personaSignatureValid(delivery.headers["persona-signature"], hook.secret, delivery.body)).toBe(true)
        expect(personaSignatureValid(delivery.headers["persona-signature"], "wbhsec_wrong", delivery.body)).toBe(false)
        expect(delivery.json.data.id).toBe(delivery.headers["webhook-id"])
        expect(delivery.json.data.type).toBe("event")
        expect(delivery.headers["persona-webhook-attempts-made"]).toBe("1")
        expect(delivery.headers["persona-webhook-attempts-left"]).toBe("2")
        expect(Date.parse(delivery.headers["persona-webhook-first-attempted-at"]!)).not.toBeNaN()
      }
      // The receiver counts a request before its attempt is recorded.
      let attempts = yield* attemptsOf(hook.id)
      while (attempts.length < committed.length) {
        yield* Effect.sleep("20 millis")
        attempts = yield* attemptsOf(hook.id)
      }
      expect(attempts.length).toBe(committed.length)
      expect(attempts.every((a) => a.status === 200)).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("sends the endpoint's inflection without its blocklisted attributes, only the events it wants", () =>
    Effect.gen(function* () {
      const r = yield* receiver()
      yield* endpoint(r.url, { keyInflection: "camel", enabledEvents: ["account.created"], attributesBlocklist: ["email_address", "/data/attributes/tags"] })
      yield* Effect.forkScoped(runDispatcher(quick()))
      const accounts = yield* Accounts
      const made = yield* accounts.create({ accountType: "User", tags: ["x"], fields: { email_address: "a@example.com", phone_number: "555" } }, as)
      yield* accounts.addTag({ id: made.id }, "y", as)
      const [got] = yield* until(r, (all) => all.length >= 1)
      const account = got!.json.data.attributes.payload.data
      expect(Object.keys(got!.json.data.attributes)).toEqual(expect.arrayContaining(["name", "createdAt", "payload", "context"]))
      expect(account.attributes.tags).toBeUndefined()
      expect(account.attributes).toHaveProperty("accountStatus")
      expect((account.attributes.fields as Record<string, unknown>).email_address).toBeUndefined()
      expect((account.attributes.fields as Record<string, unknown>).phone_number).toBeDefined()
      yield* Effect.sleep("300 millis")
      expect(r.received.map((x) => x.json.data.attributes.name)).toEqual(["account.created"])
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("with no endpoint enabled an idle dispatcher writes nothing per commit; enabling one moves the cursor, and it gets only what follows", () =>
    Effect.gen(function* () {
      const r = yield* receiver()
      const webhooks = yield* Webhooks
      const made = yield* webhooks.create({ name: "later", url: `${r.url}/hook`, enabledEvents: ["*"] })
      yield* Effect.forkScoped(runDispatcher(quick()))
      const accounts = yield* Accounts
      const account = yield* accounts.create({ accountType: "User", tags: ["a"] }, as)
      yield* accounts.addTag({ id: account.id }, "b", as)
      const sql = yield* SqlClient.SqlClient
      const cursorAndLatest = sql<{ cursor: number; latest: number }>`SELECT (SELECT event_seq FROM webhook_cursor WHERE id = 1) AS cursor, (SELECT MAX(seq) FROM events) AS latest`
      // Several polls and both commits' wake-ups later, the cursor has not moved: the commits
      // of a server nobody subscribed to cost the dispatcher no write.
      yield* Effect.sleep("300 millis")
      const [idle] = yield* cursorAndLatest
      expect(Number(idle!.cursor)).toBeLessThan(Number(idle!.latest))
      expect(yield* sql`SELECT id FROM webhook_deliveries`).toEqual([])
      const before = new Set<string>((yield* (yield* Events).list({ size: 100 })).items.map((e) => e.id))

      yield* webhooks.setStatus(made.webhook.id, "enabled")
      // Enabling the first endpoint moved the cursor past every event committed before it.
      const [enabled] = yield* cursorAndLatest
      expect(Number(enabled!.cursor)).toBe(Number(enabled!.latest))
      yield* Effect.sleep("150 millis") // the dispatcher notices the endpoint within a poll
      yield* accounts.removeTag({ id: account.id }, "a", as)
      const got = yield* until(r, (all) => all.length >= 1)
      yield* Effect.sleep("300 millis")
      expect(got.length).toBeGreaterThan(0)
      expect(r.received.filter((x) => before.has(x.headers["webhook-id"]!))).toEqual([])
      expect(r.received.map((x) => x.json.data.attributes.name)).toContain("account.tag-removed")
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("with no endpoint enabled a commit costs the dispatcher a handful of Effect steps", () =>
    Effect.gen(function* () {
      // Every operation the dispatcher's fibers evaluate, counted (op supervision on for them alone).
      let ops = 0
      const counting = new (class extends Supervisor.AbstractSupervisor<void> {
        readonly value = Effect.void
        override onEffect() {
          ops++
        }
      })()
      const accounts = yield* Accounts
      const account = yield* accounts.create({ accountType: "User" }, as)
      // A poll far away: what is counted is the commits' wake-ups.
      yield* Effect.forkScoped(runDispatcher(quick({ pollMs: 60_000 }))).pipe(Effect.supervised(counting), Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision)))
      yield* Effect.sleep("200 millis")
      const started = ops
      for (let i = 0; i < 20; i++) {
        yield* accounts.addTag({ id: account.id }, `t${i}`, as)
        yield* Effect.sleep("5 millis")
      }
      // A queue's take (≈ 24 steps); pulling each wake-up through Stream.runForEach took ≈ 56.
      expect((ops - started) / 20).toBeLessThan(36)
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("retries 500, a timeout, a closed connection and a redirect (never followed); logs every attempt", () =>
    Effect.gen(function* () {
      const plan: Array<Behaviour> = [{ status: 500, body: "x".repeat(5000) }, "hang", "close", { status: 302, headers: { location: "/elsewhere" } }, { status: 204 }]
      const r = yield* receiver(({ count }) => plan[count - 1] ?? { status: 204 })
      const hook = yield* endpoint(`${r.url}/hook`)
      yield* Effect.forkScoped(runDispatcher(quick({ schedule: [Duration.zero, ...Array(5).fill(Duration.millis(100))], timeoutMs: 500 })))
      const accounts = yield* Accounts
      yield* accounts.create({ accountType: "User" }, as)
      yield* until(r, (all) => all.length >= 5)
      yield* Effect.sleep("200 millis")
      expect(r.received.map((x) => x.headers["persona-webhook-attempts-made"])).toEqual(["1", "2", "3", "4", "5"])
      expect(new Set(r.received.map((x) => x.headers["webhook-id"])).size).toBe(1)
      expect(new Set(r.received.map((x) => x.headers["persona-webhook-first-attempted-at"])).size).toBe(1)
      expect(r.received.every((x) => x.json.data.attributes.name === "account.created")).toBe(true)
      const attempts = [...(yield* attemptsOf(hook.id))].reverse()
      expect(attempts.map((a) => a.status)).toEqual([500, null, null, 302, 204])
      expect(attempts[0]!.response!.length).toBe(1024)
      expect(attempts[1]!.error).toMatch(/^timeout: no answer within 0.5 s/)
      expect(attempts[2]!.error).toMatch(/^network: /)
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("410 disables the endpoint; 429 waits for Retry-After", () =>
    Effect.gen(function* () {
      const gone = yield* receiver(() => ({ status: 410 }))
      const limited = yield* receiver(({ count }) => (count === 1 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 }))
      const a = yield* endpoint(gone.url)
      const b = yield* endpoint(limited.url)
      yield* Effect.forkScoped(runDispatcher(quick()))
      const accounts = yield* Accounts
      yield* accounts.create({ accountType: "User" }, as)
      yield* until(limited, (all) => all.length >= 2)
      // The 429 was for the first event delivered; its retry is the one to time.
      const limitedEvent = limited.received[0]!.headers["webhook-id"]
      yield* until(limited, (all) => all.filter((x) => x.headers["webhook-id"] === limitedEvent).length >= 2)
      let tries = (yield* attemptsOf(b.id)).filter((t) => t.eventId === limitedEvent)
      while (tries.length < 2) {
        yield* Effect.sleep("20 millis")
        tries = (yield* attemptsOf(b.id)).filter((t) => t.eventId === limitedEvent)
      }
      const webhooks = yield* Webhooks
      const disabled = yield* webhooks.get(a.id)
      expect(disabled.status).toBe("disabled")
      expect(disabled.disabledReason).toContain("410 Gone")
      expect((yield* Effect.flatMap(Events, (e) => e.list({ names: ["webhook.disabled"] }))).items.map((e) => e.object.value.id)).toEqual([a.id])
      expect(gone.received.length).toBe(1)
      const [first, second] = [...tries].reverse()
      expect(second!.startedAt.getTime() - first!.startedAt.getTime()).toBeGreaterThanOrEqual(1000)
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("disables an endpoint whose every attempt failed for 5 days, saying why", () =>
    Effect.gen(function* () {
      const r = yield* receiver(() => ({ status: 500 }))
      const hook = yield* endpoint(r.url)
      const sql = yield* SqlClient.SqlClient
      const sixDaysAgo = new Date(Date.now() - 6 * 86_400_000).toISOString()
      yield* sql`UPDATE webhooks SET failing_since = ${sixDaysAgo} WHERE id = ${hook.id}`
      yield* Effect.forkScoped(runDispatcher(quick()))
      yield* Effect.flatMap(Accounts, (a) => a.create({ accountType: "User" }, as))
      const webhooks = yield* Webhooks
      let current = yield* webhooks.get(hook.id)
      while (current.status === "enabled") {
        yield* Effect.sleep("20 millis")
        current = yield* webhooks.get(hook.id)
      }
      expect(current.status).toBe("disabled")
      expect(current.disabledReason).toBe(`every attempt failed since ${sixDaysAgo} (5 days)`)
      // An event says so (and the events API serves it like any other).
      const said = (yield* Effect.flatMap(Events, (e) => e.list({ names: ["webhook.disabled"] }))).items
      expect(said).toHaveLength(1)
      expect(said[0]!.object).toMatchObject({ _tag: "webhook", value: { id: hook.id, status: "disabled" } })
      expect(said[0]!.context.data).toEqual({ reason: current.disabledReason })
      expect(r.received).toHaveLength(1)
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("signs with both secrets after a rotation, until the old one expires", () =>
    Effect.gen(function* () {
      const r = yield* receiver()
      const hook = yield* endpoint(r.url)
      const rotated = yield* Effect.flatMap(Webhooks, (w) => w.rotateSecret(hook.id, 3600))
      yield* Effect.forkScoped(runDispatcher(quick()))
      yield* Effect.flatMap(Accounts, (a) => a.create({ accountType: "User" }, as))
      const [got] = yield* until(r, (all) => all.length >= 1)
      expect(got!.headers["persona-signature"]!.split(" ")).toHaveLength(2)
      for (const secret of [hook.secret, rotated.secrets[0]!.value]) {
        expect(personaSignatureValid(got!.headers["persona-signature"], secret, got!.body)).toBe(true)
        expect(standardWebhookValid(got!.headers, secret, got!.body)).toBe(true)
      }
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("an endpoint enabled while the dispatcher runs gets the next commit's event at once, not after a poll interval", () =>
    Effect.gen(function* () {
      const r = yield* receiver()
      // An hour's poll: only the in-process notice of the change can start the endpoint's worker in time.
      yield* Effect.forkScoped(runDispatcher(quick({ pollMs: 3_600_000 })))
      yield* Effect.sleep("100 millis")
      yield* endpoint(r.url)
      yield* Effect.flatMap(Accounts, (a) => a.create({ accountType: "User" }, as))
      const [got] = yield* until(r, (all) => all.length >= 1, 5000)
      expect(got!.json.data.attributes.name).toBe("account.created")
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("signs with the new secret alone right after a rotation without grace (the decrypted secrets are cached per endpoint)", () =>
    Effect.gen(function* () {
      const r = yield* receiver()
      const hook = yield* endpoint(r.url)
      yield* Effect.forkScoped(runDispatcher(quick()))
      const accounts = yield* Accounts
      yield* accounts.create({ accountType: "User" }, as)
      const [first] = yield* until(r, (all) => all.length >= 1)
      expect(personaSignatureValid(first!.headers["persona-signature"], hook.secret, first!.body)).toBe(true)
      const rotated = yield* Effect.flatMap(Webhooks, (w) => w.rotateSecret(hook.id, 0))
      yield* accounts.create({ accountType: "User" }, as)
      const got = yield* until(r, (all) => all.length >= 2)
      const second = got[1]!
      expect(second.headers["persona-signature"]!.split(" ")).toHaveLength(1)
      expect(personaSignatureValid(second.headers["persona-signature"], rotated.secrets[0]!.value, second.body)).toBe(true)
      expect(standardWebhookValid(second.headers, rotated.secrets[0]!.value, second.body)).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("checks the address at each connection: a host resolving to loopback is refused when not allowed", () =>
    Effect.gen(function* () {
      const r = yield* receiver()
      // Saved while localhost was allowed; the dispatcher no longer allows it.
      const webhooks = yield* Webhooks
      const hook = yield* endpoint(r.url)
      yield* webhooks.update(hook.id, { url: `https://localhost:${r.port}/` })
      yield* Effect.forkScoped(runDispatcher(quick({ allowed: new Set() })))
      yield* Effect.flatMap(Accounts, (a) => a.create({ accountType: "User" }, as))
      const attempts = yield* firstRecorded(hook.id)
      expect(attempts[0]!.error).toContain("refused: url: localhost resolves to 127.0.0.1, a loopback address")
      expect(r.received).toHaveLength(0)
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )
})

describe("leases and stopping", () => {
  it.live("renews the lease while a slow attempt runs: another dispatcher does not send it again", () =>
    Effect.gen(function* () {
      // Each answer takes four leases' time; without renewal the second dispatcher would take the rows over.
      const r = yield* receiver(() => ({ status: 200, delayMs: 1200 }))
      const hook = yield* endpoint(r.url)
      yield* Effect.forkScoped(runDispatcher(quick({ leaseMs: 300 })))
      yield* Effect.forkScoped(runDispatcher(quick({ leaseMs: 300 })))
      const accounts = yield* Accounts
      yield* accounts.create({ accountType: "User" }, as)
      yield* accounts.create({ accountType: "User" }, as)
      let attempts = yield* attemptsOf(hook.id)
      while (attempts.length < 2) {
        yield* Effect.sleep("50 millis")
        attempts = yield* attemptsOf(hook.id)
      }
      // Time for a wrongly taken-over row to arrive a second time.
      yield* Effect.sleep("1500 millis")
      expect(r.received.map((x) => x.json.data.attributes.name)).toEqual(["account.created", "account.created"])
      expect(new Set(r.received.map((x) => x.headers["webhook-id"])).size).toBe(2)
      expect(attempts.every((a) => a.status === 200 && a.attempt === 1)).toBe(true)
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("a recording that fails is tried again, never dropped: its row stays leased and is not sent a second time", () =>
    Effect.gen(function* () {
      const r = yield* receiver()
      const hook = yield* endpoint(r.url)
      const sql = yield* SqlClient.SqlClient
      // The database refuses to record attempts for a while (as a Postgres deadlock or timeout did under load).
      yield* sql`CREATE TRIGGER refuse_recording BEFORE INSERT ON webhook_attempts BEGIN SELECT RAISE(ABORT, 'recording refused (test)'); END`
      yield* Effect.forkScoped(runDispatcher(quick({ leaseMs: 300 })))
      yield* Effect.flatMap(Accounts, (a) => a.create({ accountType: "User" }, as))
      yield* until(r, (all) => all.length >= 1)
      // Four leases long: time for a dropped recording's row to be claimed and sent again.
      yield* Effect.sleep("1200 millis")
      yield* sql`DROP TRIGGER refuse_recording`
      const attempts = yield* firstRecorded(hook.id)
      yield* Effect.sleep("300 millis")
      expect(r.received).toHaveLength(1)
      expect(attempts.map((a) => ({ attempt: a.attempt, status: a.status }))).toEqual([{ attempt: 1, status: 200 }])
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("a dispatcher whose lease lapsed while its attempt ran does not send the row again itself when it claims it back", () =>
    Effect.gen(function* () {
      const r = yield* receiver(() => ({ status: 200, delayMs: 1000 }))
      const hook = yield* endpoint(r.url)
      const sql = yield* SqlClient.SqlClient
      // Renewals fail (the lease keeps its token but may not be extended): it lapses after 300 ms.
      yield* sql`CREATE TRIGGER refuse_renewal BEFORE UPDATE OF lease_until ON webhook_deliveries
        WHEN NEW.lease_token = OLD.lease_token AND NEW.state = 'pending' AND NEW.lease_until IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'renewal refused (test)'); END`
      yield* Effect.forkScoped(runDispatcher(quick({ leaseMs: 300 })))
      yield* Effect.flatMap(Accounts, (a) => a.create({ accountType: "User" }, as))
      yield* firstRecorded(hook.id)
      // Time for a second send of the row, claimed back while the first ran, to arrive.
      yield* Effect.sleep("1500 millis")
      expect(r.received).toHaveLength(1)
      expect((yield* attemptsOf(hook.id)).map((a) => a.status)).toEqual([200])
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("a stop lets the attempts in flight finish and records them", () =>
    Effect.gen(function* () {
      const r = yield* receiver(() => ({ status: 200, delayMs: 400 }))
      const hook = yield* endpoint(r.url)
      const dispatcher = yield* startDispatcher(quick())
      yield* Effect.flatMap(Accounts, (a) => a.create({ accountType: "User" }, as))
      yield* until(r, (all) => all.length >= 1)
      yield* dispatcher.stop("5 seconds")
      const attempts = yield* attemptsOf(hook.id)
      expect(attempts.map((a) => a.status)).toEqual([200])
      const rows = yield* Effect.flatMap(makeWebhookQueue, (q) => q.deliveries(hook.id, 10))
      expect(rows.map((d) => d.state)).toEqual(["delivered"])
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )

  it.live("past the grace period a stop abandons the attempt and gives its lease back", () =>
    Effect.gen(function* () {
      const r = yield* receiver(() => "hang")
      const hook = yield* endpoint(r.url)
      const dispatcher = yield* startDispatcher(quick({ leaseMs: 60_000 }))
      yield* Effect.flatMap(Accounts, (a) => a.create({ accountType: "User" }, as))
      yield* until(r, (all) => all.length >= 1)
      const started = Date.now()
      yield* dispatcher.stop("300 millis")
      expect(Date.now() - started).toBeLessThan(5000)
      const rows = yield* Effect.flatMap(makeWebhookQueue, (q) => q.deliveries(hook.id, 10))
      // Due again at once for any dispatcher, not after the 60 s lease.
      expect(rows.map((d) => ({ state: d.state, attempts: Number(d.attempts), lease: d.lease_token }))).toEqual([{ state: "pending", attempts: 0, lease: null }])
      expect(yield* attemptsOf(hook.id)).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  )
})

describe("the retry schedule under TestClock", () => {
  it.effect("waits each scheduled delay (jittered) between attempts, then delivers", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.now())
      const r = yield* receiver(({ count }) => (count < 3 ? { status: 503 } : { status: 200 }))
      const hook = yield* endpoint(r.url)
      yield* Effect.forkScoped(runDispatcher(quick({ schedule: [Duration.zero, Duration.minutes(1), Duration.hours(1)], pollMs: 600_000 })))
      yield* Effect.flatMap(Accounts, (a) => a.create({ accountType: "User" }, as))
      // Real I/O runs between the clock's steps: move it on a little at a time. (A long poll
      // interval: the worker then sleeps until the next attempt is due, not every 50 ms.)
      // Until the third attempt is recorded too: a finished attempt waits (on this clock) for
      // the recording window, so it may reach the receiver before its record exists.
      while (r.received.length < 3 || (yield* attemptsOf(hook.id)).length < 3) {
        yield* TestClock.adjust("20 seconds")
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
      }
      const tries = [...(yield* attemptsOf(hook.id))].reverse()
      const gaps = tries.slice(1).map((t, i) => t.startedAt.getTime() - tries[i]!.startedAt.getTime())
      expect(gaps[0]).toBeGreaterThanOrEqual(54_000)
      expect(gaps[0]).toBeLessThanOrEqual(66_000 + 20_000)
      expect(gaps[1]).toBeGreaterThanOrEqual(54 * 60_000)
      expect(gaps[1]).toBeLessThanOrEqual(66 * 60_000 + 20_000)
      expect(r.received.map((x) => x.headers["persona-webhook-attempts-left"])).toEqual(["2", "1", "0"])
    }).pipe(Effect.scoped, Effect.provide(testStore(tempDb())))
  , 60_000)
})

describe("claims with a backlog", () => {
  // The claim in webhook-queue.ts takes an endpoint's oldest pending deliveries. Its cost must
  // not grow with the backlog: with the old index (state, webhook_id, next_attempt_at) SQLite read
  // and sorted every pending row of the endpoint for each claim (2 ms at 10,000), so a backlog
  // slowed the dispatcher and grew faster. The plan must walk the pending rows in claim order.
  it.live("walks the pending rows in claim order (no sort of the backlog)", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const plan = yield* sql<{ detail: string }>`EXPLAIN QUERY PLAN
        SELECT d.id FROM webhook_deliveries d
        WHERE d.state = 'pending' AND d.webhook_id = ${"wh_x"} AND d.next_attempt_at <= ${"2030"} AND (d.lease_until IS NULL OR d.lease_until <= ${"2030"})
        ORDER BY d.event_seq, d.generation LIMIT 16`
      const details = plan.map((row) => row.detail).join(" | ")
      expect(details).toContain("webhook_deliveries_pending")
      expect(details).not.toContain("TEMP B-TREE")
    }).pipe(Effect.provide(testStore(tempDb(), false)))
  )
})
