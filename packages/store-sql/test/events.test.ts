/**
 * Every committed change writes its events in its own transaction, and only then: names,
 * objects and context per operation; nothing for a refused, failed, rolled-back, replayed or
 * empty change; the feed reads them in commit order and wakes readers (across processes on
 * Postgres), even with many writers at once.
 */
import { type AcctEvent, Accounts, Events, plainValue } from "@acct/core"
import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { ConfigProvider, Context, Deferred, Effect, Fiber, Layer, Queue, Supervisor, TestClock } from "effect"
import { afterAll } from "vitest"
import { EventFeed, type FeedPosition, storeFor } from "../src/index.js"
import { as, backends, demoStore, dropDatabases, jane, onFreshStore } from "./harness.js"

afterAll(dropDatabases)

/**
 * Waits until the feed shows everything committed so far. On Postgres the feed reads only below
 * the oldest running transaction of the whole cluster (another test's, another database's): take
 * a transaction id now and wait until every transaction up to it has ended. SQLite: at once.
 */
const settled = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.onDialectOrElse({
    pg: () =>
      Effect.gen(function* () {
        const xid = (yield* sql<{ xid: string }>`SELECT pg_current_xact_id()::text AS xid`)[0]!.xid
        const ended = sql<{ ended: boolean }>`SELECT pg_snapshot_xmin(pg_current_snapshot()) > ${xid}::xid8 AS ended`
        while (!(yield* ended)[0]!.ended) yield* Effect.sleep("20 millis")
      }).pipe(Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => new Error("a transaction of the cluster stayed open 20 s: the feed cannot move past it") }), Effect.orDie),
    orElse: () => Effect.void
  })
)

/** The events written after `position`, in commit order (once the feed shows all committed). */
const since = (position: FeedPosition) => Effect.zipRight(settled, Effect.flatMap(EventFeed, (feed) => Effect.map(feed.after(position, 1000), (page) => page.events)))
const latest = Effect.flatMap(EventFeed, (feed) => feed.latest)
const names = (events: ReadonlyArray<AcctEvent>) => events.map((e) => e.name)

describe.each(backends)("events ($name)", (backend) => {
  it.effect("a multi-tag change: per-tag events and one updated-tags, in one transaction", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const from = yield* latest
      const after = yield* accounts.changeTags(jane, { add: ["a", "b"], remove: ["tag1"] }, { ...as(), requestId: "req_1" })
      const events = yield* since(from)
      expect(names(events)).toEqual(["account.tag-added", "account.tag-added", "account.tag-removed", "account.updated-tags"])
      expect(events.map((e) => e.context.tagName)).toEqual(["a", "b", "tag1", undefined])
      expect(events[3]!.context).toMatchObject({ addedTags: ["a", "b"], removedTags: ["tag1"], actor: { kind: "cli", id: "tester" }, channel: "cli", requestId: "req_1" })
      // One transaction: one time, consecutive seqs, the account as committed.
      expect(new Set(events.map((e) => e.createdAt.toISOString())).size).toBe(1)
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => events[0]!.seq + i))
      for (const event of events) {
        expect(event.object._tag).toBe("account")
        expect(event.object.value).toEqual(after)
        expect(event.accountId).toBe(after.id)
        expect(event.id).toMatch(/^evt_[A-Za-z0-9]{24}$/)
      }
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.live("each operation says what it did", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      let cursor = yield* latest
      const next = Effect.gen(function* () {
        yield* settled
        const page = yield* Effect.flatMap(EventFeed, (feed) => feed.after(cursor, 1000))
        cursor = page.position
        return page.events
      })

      const created = yield* accounts.create({ accountType: "User", referenceId: "ev-1", tags: ["t"], fields: { phone_number: "555-0100" } }, as())
      expect(names(yield* next)).toEqual(["account.created"])

      yield* accounts.update({ id: created.id }, { referenceId: "ev-2", fields: { phone_number: "555-0199", email_address: "e@x.io" } }, as())
      const updated = yield* next
      expect(names(updated)).toEqual(["account.updated-fields"])
      expect(updated[0]!.context).toMatchObject({ updatedFields: ["phone_number", "email_address"], referenceIdBefore: "ev-1" })

      const { run } = yield* accounts.lifecycle({ id: created.id }, "disable", as())
      const disabled = yield* next
      expect(names(disabled)).toEqual(["workflow-run.created", "account.status-updated"])
      expect(disabled[0]!.object).toMatchObject({ _tag: "workflow-run", value: { id: run.id, accountId: created.id } })
      expect(disabled[0]!.accountId).toBe(created.id)
      expect(disabled[1]!.context).toMatchObject({ workflowRunId: run.id, statusBefore: "deactivated", statusAfter: "disabled" })

      yield* accounts.lifecycle({ id: created.id }, "enable", as())
      yield* next
      const suspended = yield* accounts.runAction({ id: created.id }, "Suspend for review", { reason: "chargeback" }, as())
      const action = yield* next
      expect(names(action)).toEqual(["workflow-run.created", "account.tag-added", "account.updated-tags", "account.status-updated", "account.suspended"])
      expect(action.every((e) => e.context.workflowRunId === suspended.run.id)).toBe(true)
      expect(action[4]!.context.data).toEqual({ reason: "chargeback", "account-id": created.id })
      expect(action[4]!.object.value).toEqual(suspended.account)

      const dup = yield* accounts.create({ accountType: "User", tags: ["dup"] }, as())
      yield* next
      yield* accounts.consolidate({ id: created.id }, [{ id: dup.id }], as())
      const merged = yield* next
      expect(merged.map((e) => [e.name, e.object.value.id])).toEqual([
        ["account.consolidated", dup.id],
        ["account.archived", dup.id],
        ["account.consolidated-with", created.id],
        ["account.tag-added", created.id],
        ["account.updated-tags", created.id]
      ])
      expect(merged[0]!.context.consolidatedInto).toBe(created.id)
      expect(merged[2]!.context.sourceAccountIds).toEqual([dup.id])

      const redacted = yield* accounts.redact({ id: created.id }, as())
      const gone = yield* next
      expect(names(gone)).toEqual(["account.redacted"])
      expect(gone[0]!.object.value).toEqual(redacted)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("an event exists iff its change committed: refusals, failures, rollbacks, replays and no-ops write none", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const sql = yield* SqlClient.SqlClient
      const before = yield* accounts.get(jane)
      const from = yield* latest
      yield* Effect.flip(accounts.changeTags(jane, { add: ["ok", "bad,tag"] }, as()))
      yield* Effect.flip(accounts.addTag(jane, "x", as(["account.read"])))
      yield* Effect.flip(accounts.lifecycle(jane, "deactivate", as()))
      yield* Effect.flip(accounts.addTag(jane, "x", { ...as(), expectedVersion: before.version + 5 }))
      yield* Effect.flip(accounts.runAction(jane, "Set status", { status: "sideways" }, as()))
      yield* accounts.changeTags(jane, { add: ["tag1"] }, as())
      // The change itself succeeds, and then its (outer) transaction is rolled back.
      yield* Effect.flip(sql.withTransaction(Effect.zipRight(accounts.addTag(jane, "rolled-back", as()), Effect.fail("boom" as const))))
      expect(yield* since(from)).toEqual([])
      expect((yield* accounts.get(jane)).tags).toEqual(before.tags)

      yield* accounts.addTag(jane, "once", { ...as(), idempotencyKey: "k-1" })
      yield* accounts.addTag(jane, "once", { ...as(), idempotencyKey: "k-1" })
      expect(names(yield* since(from))).toEqual(["account.tag-added", "account.updated-tags"])
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("the events port lists newest first with Persona's filters, pages, and gets one", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const events = yield* Events
      const account = yield* accounts.get(jane)
      yield* accounts.changeTags(jane, { add: ["p1", "p2", "p3"] }, as())
      const { run } = yield* accounts.lifecycle(jane, "disable", as())
      const mine = yield* events.list({ accountId: account.id, size: 100 })
      expect(names(mine.items)).toEqual(["account.status-updated", "workflow-run.created", "account.updated-tags", "account.tag-added", "account.tag-added", "account.tag-added", "account.created"])
      const byObject = yield* events.list({ objectIds: [run.id] })
      expect(names(byObject.items)).toEqual(["workflow-run.created"])
      expect(names((yield* events.list({ objectIds: [account.id], objectType: "account", names: ["account.tag-added", "account.created"] })).items)).toEqual([
        "account.tag-added",
        "account.tag-added",
        "account.tag-added",
        "account.created"
      ])
      const first = yield* events.list({ accountId: account.id, size: 3 })
      const second = yield* events.list({ accountId: account.id, size: 3, after: first.next! })
      expect([...first.items, ...second.items].map((e) => e.id)).toEqual(mine.items.slice(0, 6).map((e) => e.id))
      const back = yield* events.list({ accountId: account.id, size: 3, before: second.prev! })
      expect(back.items.map((e) => e.id)).toEqual(first.items.map((e) => e.id))
      expect(yield* events.get(mine.items[0]!.id)).toEqual(mine.items[0])
      expect((yield* events.list({ ids: [mine.items[1]!.id, mine.items[2]!.id] })).items.map((e) => e.id)).toEqual([mine.items[1]!.id, mine.items[2]!.id])
      expect((yield* Effect.flip(events.get("evt_000000000000000000000000" as never)))._tag).toBe("NotFound")
      expect((yield* events.list({ since: new Date(Date.now() + 60_000) })).items).toEqual([])
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("a redaction rewrites the account's events: no field value, parameter or emitted datum survives", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const events = yield* Events
      const created = yield* accounts.create({ accountType: "User", fields: { email_address: "zed.quux@example.org", phone_number: "555-7777" } }, as())
      const ref = { id: created.id }
      yield* accounts.runAction(ref, "Update contact", { email_address: "zq@example.org", phone_number: "555-8888" }, as())
      yield* accounts.runAction(ref, "Suspend for review", { reason: "zed.quux@example.org called" }, as())
      const others = (yield* events.list({ accountId: (yield* accounts.get(jane)).id, size: 100 })).items
      yield* accounts.redact(ref, as())
      const all = (yield* events.list({ accountId: created.id, size: 100 })).items
      expect(all[0]!.name).toBe("account.redacted")
      expect(all.length).toBeGreaterThan(8)
      const text = JSON.stringify(all)
      for (const value of ["zed.quux", "zq@example.org", "555-7777", "555-8888"]) expect(text).not.toContain(value)
      for (const event of all) {
        if (event.object._tag === "account") expect(Object.values(event.object.value.fields).every((f) => plainValue(f) === null || typeof plainValue(f) === "object")).toBe(true)
        else if (event.object._tag === "workflow-run") expect(Object.values(event.object.value.parameters).every((v) => v === null)).toBe(true)
      }
      // Keys (and types) stay, values go; the account id an emit-event names is no personal data.
      expect(all.find((e) => e.name === "account.suspended")!.context.data).toEqual({ reason: null, "account-id": created.id })
      expect(all.find((e) => e.name === "account.status-updated")!.context).toMatchObject({ statusBefore: "deactivated", statusAfter: "disabled" })
      // Nobody else's events change.
      expect((yield* events.list({ accountId: (yield* accounts.get(jane)).id, size: 100 })).items).toEqual(others)
    }).pipe((test) => onFreshStore(backend, test))
  )

  it.effect("past ACCT_EVENT_RETENTION events are no longer served, and the next change deletes them", () =>
    Effect.gen(function* () {
      const database = yield* Effect.promise(() => backend.fresh())
      const retention = Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["ACCT_EVENT_RETENTION", "1h"]])))
      yield* Effect.gen(function* () {
        const accounts = yield* Accounts
        const events = yield* Events
        const sql = yield* SqlClient.SqlClient
        const stored = Effect.map(sql<{ name: string }>`SELECT name FROM events ORDER BY seq`, (rows) => rows.map((r) => r.name))
        yield* accounts.addTag(jane, "old", as())
        expect((yield* stored).length).toBeGreaterThan(7)
        const old = (yield* events.list({ size: 1 })).items[0]!
        yield* TestClock.adjust("2 hours")
        expect((yield* events.list({ size: 100 })).items).toEqual([])
        expect((yield* Effect.flip(events.get(old.id)))._tag).toBe("NotFound")
        yield* accounts.addTag(jane, "new", as())
        expect(yield* stored).toEqual(["account.tag-added", "account.updated-tags"])
      }).pipe(Effect.provide(demoStore(database).pipe(Layer.provide(retention))))
    })
  )

  it.effect("a retention that is not a duration stops the store with the setting's name", () =>
    Effect.gen(function* () {
      const database = yield* Effect.promise(() => backend.fresh())
      const error = yield* Effect.flip(Effect.scoped(Layer.build(storeFor(database).pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["ACCT_EVENT_RETENTION", "forever"]]))))))))
      expect(error.message).toBe('ACCT_EVENT_RETENTION: expected a number and a unit (ms, s, m, h, d), e.g. 90d or 12h; got "forever"')
    })
  )

  it.live("the feed wakes a reader in this process when events commit", () =>
    Effect.scoped(Effect.gen(function* () {
      const accounts = yield* Accounts
      const feed = yield* EventFeed
      const woken = yield* Effect.fork(Queue.take(yield* feed.subscribe))
      const from = yield* latest
      yield* accounts.addTag(jane, "wake", as())
      yield* Fiber.join(woken).pipe(Effect.timeout("10 seconds"))
      yield* settled
      expect(names((yield* feed.after(from, 10)).events)).toEqual(["account.tag-added", "account.updated-tags"])
    })).pipe((test) => onFreshStore(backend, test))
  )

  it.live("waking a reader forks no fiber per commit", () =>
    Effect.scoped(Effect.gen(function* () {
      const accounts = yield* Accounts
      const feed = yield* EventFeed
      // Every fiber started under the reader is counted.
      let started = 0
      const counting = new (class extends Supervisor.AbstractSupervisor<void> {
        readonly value = Effect.void
        override onStart() {
          started++
        }
      })()
      const wakes = yield* Queue.unbounded<void>()
      const commits = yield* feed.subscribe
      yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Queue.take(commits), Queue.offer(wakes, undefined)))).pipe(Effect.supervised(counting))
      yield* accounts.addTag(jane, "wake-0", as())
      yield* Queue.take(wakes)
      const running = started
      for (let i = 1; i <= 5; i++) {
        yield* accounts.addTag(jane, `wake-${i}`, as())
        yield* Queue.take(wakes).pipe(Effect.timeout("10 seconds"))
      }
      // Stream.merge forked three fibers for every commit (a fifth of a change's Effect work).
      expect(started - running).toBe(0)
    })).pipe((test) => onFreshStore(backend, test))
  )

  it.live("many writers at once: a reader following the feed misses none and sees each once, in order", () =>
    Effect.gen(function* () {
      const database = yield* Effect.promise(() => backend.fresh())
      // On Postgres, two stores on one database (two pools, as two replicas have); SQLite has
      // one writer at a time whatever the number of connections.
      const other = backend.name === "postgres" ? Context.get(yield* Layer.build(storeFor(database)), Accounts) : undefined
      yield* Effect.gen(function* () {
        const accounts = yield* Accounts
        const feed = yield* EventFeed
        const otherAccounts = other ?? accounts
        const targets = yield* Effect.forEach(Array.from({ length: 8 }, (_, i) => i), (i) => accounts.create({ accountType: "User", referenceId: `w-${i}` }, as()))
        const start = yield* feed.latest
        const seen: Array<AcctEvent> = []
        let done = false
        const reader = Effect.gen(function* () {
          let cursor = start
          while (true) {
            const last = done
            // Once the writers are done, their last events may wait for older transactions to end.
            if (last) yield* settled
            const batch = yield* feed.after(cursor, 7)
            seen.push(...batch.events)
            cursor = batch.position
            if (batch.events.length === 0 && last) return
            // A dispatcher's pause between polls (here short: the writers are quick).
            if (batch.events.length === 0) yield* Effect.sleep("2 millis")
          }
        })
        const readerFiber = yield* Effect.fork(reader)
        yield* Effect.forEach(
          Array.from({ length: 40 }, (_, i) => i),
          (i) => (i % 2 === 0 ? accounts : otherAccounts).addTag({ id: targets[i % 8]!.id }, `t${i}`, as()),
          { concurrency: 8 }
        )
        done = true
        yield* Fiber.join(readerFiber)
        const all = (yield* feed.after(start, 1000)).events
        expect(all).toHaveLength(80)
        expect(seen.map((e) => e.id)).toEqual(all.map((e) => e.id))
        expect(new Set(seen.map((e) => e.id)).size).toBe(80)
      }).pipe(Effect.provide(demoStore(database, false)))
    }).pipe(Effect.scoped)
  )

  if (backend.name === "postgres") {
    it.live("on Postgres, events of a transaction that commits after a later-written one are still read, once", () =>
      Effect.gen(function* () {
        const accounts = yield* Accounts
        const feed = yield* EventFeed
        const sql = yield* SqlClient.SqlClient
        const other = yield* accounts.create({ accountType: "User", referenceId: "late-other" }, as())
        const start = yield* feed.latest
        const written = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        // A: writes its events first (the lower seqs), then stays open.
        const slow = yield* Effect.fork(sql.withTransaction(Effect.gen(function* () {
          yield* accounts.addTag(jane, "slow", as())
          yield* Deferred.succeed(written, undefined)
          yield* Deferred.await(release)
        })))
        yield* Deferred.await(written)
        // B: writes later (higher seqs) and commits first, without waiting for A.
        yield* accounts.addTag({ id: other.id }, "fast", as()).pipe(Effect.timeout("10 seconds"))
        const first = yield* feed.after(start, 1000)
        // Neither is read while A runs: B's could be, but a reader that took it would move past A's seqs.
        expect(first.events).toEqual([])
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(slow)
        yield* settled
        const second = yield* feed.after(first.position, 1000)
        const seqs = second.events.map((e) => e.seq)
        expect(second.events.map((e) => `${e.name} ${e.context.tagName ?? ""}`.trim())).toEqual([
          "account.tag-added slow",
          "account.updated-tags",
          "account.tag-added fast",
          "account.updated-tags"
        ])
        // Commit order, not seq order: A's events (written first, committed last) come first here
        // only because A's transaction began first; what matters is that none is skipped.
        expect(new Set(seqs).size).toBe(4)
        expect((yield* feed.after(second.position, 1000)).events).toEqual([])
      }).pipe((test) => onFreshStore(backend, test))
    )

    it.live("on Postgres, another process's commit wakes the reader (NOTIFY on commit)", () =>
      Effect.gen(function* () {
        const database = yield* Effect.promise(() => backend.fresh())
        const writer = Context.get(yield* Layer.build(demoStore(database)), Accounts)
        yield* Effect.gen(function* () {
          const feed = yield* EventFeed
          const woken = yield* Effect.fork(Queue.take(yield* feed.subscribe))
          // LISTEN starts with the stream, at some point: commit elsewhere until one is heard.
          let n = 0
          const poke = Effect.forever(Effect.zipRight(Effect.suspend(() => writer.addTag(jane, `elsewhere-${n++}`, as())), Effect.sleep("100 millis")))
          yield* Effect.raceFirst(Fiber.join(woken), poke).pipe(Effect.timeout("10 seconds"))
          expect(n).toBeGreaterThan(0)
        }).pipe(Effect.provide(storeFor(database)))
      }).pipe(Effect.scoped)
    )
  }
})
