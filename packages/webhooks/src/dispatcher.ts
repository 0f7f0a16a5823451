/**
 * The dispatcher: committed events → signed POSTs, at least once.
 *
 * - One fan-out loop turns new events into delivery rows (woken by the event feed, and every
 *   `pollMs` besides, since a wake-up is only a hint).
 * - One worker per enabled endpoint claims that endpoint's due rows and keeps up to
 *   `concurrency` of them in flight, refilling as slots free: a slow or dead endpoint holds up
 *   only its own worker.
 * - Every attempt is logged; its verdict (core's attemptVerdict) delivers the row, schedules it
 *   again (ACCT_WEBHOOK_RETRY_SCHEDULE, jittered, no sooner than a 429/503's Retry-After), or
 *   gives up. A 410, or every attempt failing for 5 days, disables the endpoint.
 *
 * All waiting goes through Effect's Clock (TestClock drives the retry schedule in tests); the
 * state lives in the database (webhook-queue.ts), so a process killed at any moment loses
 * nothing: what it had claimed is sent again once its lease expires.
 *
 * Leases are short (10 s) and renewed every third of that while attempts run, so an
 * attempt may take its whole 15 s timeout without another dispatcher sending it again, and a
 * killed dispatcher's rows wait at most one lease. Stopping (SIGTERM) is graceful: no new
 * claims, the attempts in flight finish within the grace period, and those that cannot are
 * abandoned with their leases released, so another dispatcher takes them at once.
 */
import { applyBlocklist, inflectKeys, toEventResource } from "@acct/api"
import {
  type AcctEvent,
  attemptVerdict,
  DEFAULT_RETRY_SCHEDULE,
  DISABLE_FAILING_AFTER,
  InvalidRequest,
  parseRetryAfter,
  parseRetrySchedule,
  personaSignature,
  standardWebhookHeaders,
  type Webhook,
  Webhooks,
  WebhookSecrets
} from "@acct/core"
import { type DeliveryRow, EventFeed, type Finish, type FinishedAttempt, makeWebhookQueue } from "@acct/store-sql"
import { Chunk, Clock, Config, Context, Deferred, Duration, Effect, Either, Fiber, FiberSet, Layer, Option, Queue, Random, Stream } from "effect"
import { type AttemptOutcome, allowedHostsConfig, post } from "./network.js"

export interface DispatcherOptions {
  readonly schedule: ReadonlyArray<Duration.Duration>
  readonly allowed: ReadonlySet<string>
  /** The whole exchange of one attempt (default 15 s). */
  readonly timeoutMs: number
  /**
   * How long a claim holds a row unless renewed; past it another dispatcher may send it again
   * (default 10 s). Renewed every third of it while the claim's attempts run.
   */
  readonly leaseMs: number
  /** On stop, how long attempts in flight may still take (default ACCT_SHUTDOWN_GRACE_SECONDS less 0.5 s). */
  readonly graceMs: number
  /** How often to look for work without a wake-up (default 1 s). */
  readonly pollMs: number
  /**
   * Attempts in flight per endpoint (default 16): at a receiver's 50 ms that is 320 deliveries/s
   * to one endpoint; a slow or dead endpoint holds at most this many of its own rows.
   */
  readonly concurrency: number
  /** Events fanned out per transaction (default 500). */
  readonly batch: number
}

const positive = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: `${name}: expected a whole number above 0`, validation: (n) => n > 0 })
  )

/** The default lease: enough to ride out a stalled renewal or two, short enough that a kill costs little. */
export const DEFAULT_LEASE_MS = 10_000
/** At most this many finished attempts are recorded in one transaction. */
const RECORD_BATCH = 64
/** Time kept from the grace period for giving abandoned leases back and closing the database. */
const STOP_MARGIN_MS = 500

/** The dispatcher's settings from the environment (ACCT_WEBHOOK_*), refused in plain words. */
export const dispatcherOptions = Effect.gen(function* () {
  const text = yield* Config.string("ACCT_WEBHOOK_RETRY_SCHEDULE").pipe(Config.withDefault(DEFAULT_RETRY_SCHEDULE))
  const schedule = yield* Either.match(parseRetrySchedule(text), { onLeft: (message) => Effect.fail(new InvalidRequest({ message })), onRight: Effect.succeed })
  return {
    schedule,
    allowed: yield* allowedHostsConfig,
    timeoutMs: 15_000,
    leaseMs: yield* Config.integer("ACCT_WEBHOOK_LEASE_MS").pipe(
      Config.withDefault(DEFAULT_LEASE_MS),
      Config.validate({ message: "ACCT_WEBHOOK_LEASE_MS: expected a whole number of milliseconds, at least 1000 (the lease is renewed every third of it)", validation: (n) => n >= 1000 })
    ),
    graceMs: Math.max(0, (yield* Config.number("ACCT_SHUTDOWN_GRACE_SECONDS").pipe(Config.withDefault(10))) * 1000 - STOP_MARGIN_MS),
    pollMs: yield* positive("ACCT_WEBHOOK_POLL_MS", 1000),
    concurrency: yield* positive("ACCT_WEBHOOK_CONCURRENCY", 16),
    batch: 500
  } satisfies DispatcherOptions
}).pipe(Effect.mapError((e) => (e._tag === "InvalidRequest" ? e : new InvalidRequest({ message: `invalid webhook setting: ${String(e)}` }))))

/** The POST's body: the event as the events API serializes it, blocklist applied, in the endpoint's inflection. */
export const deliveryBody = (event: AcctEvent, webhook: Webhook): string =>
  JSON.stringify(inflectKeys(applyBlocklist({ data: toEventResource(event) }, webhook.attributesBlocklist), webhook.keyInflection))

/** Every header a delivery carries: both signature schemes and Persona's attempt counters. */
export const deliveryHeaders = (input: {
  readonly secrets: ReadonlyArray<string>
  readonly eventId: string
  readonly body: string
  readonly unixSeconds: number
  readonly attemptsMade: number
  readonly attemptsLeft: number
  readonly firstAttemptedAt: string
}): Record<string, string> => ({
  "persona-signature": personaSignature(input.secrets, input.unixSeconds, input.body),
  ...standardWebhookHeaders(input.secrets, input.eventId, input.unixSeconds, input.body),
  "persona-webhook-attempts-made": String(input.attemptsMade),
  "persona-webhook-attempts-left": String(input.attemptsLeft),
  "persona-webhook-first-attempted-at": input.firstAttemptedAt
})

const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

/** Logs and swallows a failure of one step: the loop goes on and the step is tried again. */
const survive = <A, E, R>(what: string, effect: Effect.Effect<A, E, R>) =>
  Effect.catchAllCause(Effect.asVoid(effect), (cause) => Effect.logWarning(`webhooks: ${what} failed; trying again`).pipe(Effect.annotateLogs({ cause: String(cause).slice(0, 500) })))

/** A running dispatcher: stopping it lets the attempts in flight finish, for at most `within`. */
export interface DispatcherHandle {
  readonly stop: (within: Duration.DurationInput) => Effect.Effect<void>
}

/**
 * Starts the dispatcher in the current scope and answers its handle; closing the scope stops it
 * as `stop(graceMs)` does (a later stop finds it stopped).
 */
export const startDispatcher = (options: DispatcherOptions) =>
  Effect.gen(function* () {
    const queue = yield* makeWebhookQueue
    const feed = yield* EventFeed
    const webhooks = yield* Webhooks
    const secrets = yield* WebhookSecrets
    /** Set once stopping: nothing new is claimed; `halt` wakes whatever waits. */
    let stopping = false
    const halt = yield* Deferred.make<void>()
    /** Waits for `ms`, a wake-up, or the stop, whichever comes first. */
    const pause = (ms: number, wake: Queue.Queue<void>) => Effect.raceAll([Queue.take(wake), Effect.sleep(Duration.millis(ms)), Deferred.await(halt)])

    yield* survive("starting the event cursor", Effect.flatMap(feed.latest, queue.initCursor)).pipe(Effect.retry({ times: 5 }))

    /** Per endpoint: its latest settings and a wake-up for its worker. */
    const workers = new Map<string, { webhook: Webhook; readonly wake: Queue.Queue<void>; readonly fiber: Fiber.RuntimeFiber<void> }>()
    const wakeWorkers = (ids: Iterable<string>) => Effect.forEach(ids, (id) => (workers.has(id) ? Queue.offer(workers.get(id)!.wake, undefined) : Effect.void), { discard: true })

    const fanOut: Effect.Effect<void, unknown> = Effect.gen(function* () {
      // No endpoint enabled (as supervise just read): nothing to do. The events committed
      // meanwhile stay behind the cursor; enabling the first endpoint moves the cursor past
      // them, in its own transaction (sql-webhooks.ts: setStatus), so no commit of a server
      // nobody subscribed to costs a write of its own.
      if (workers.size === 0) return
      while (true) {
        const done = yield* queue.fanOut(
          (after) => Effect.map(feed.after(after, options.batch), ({ events, position }) => ({ events: events.map((e) => ({ seq: e.seq, id: e.id, name: e.name })), position })),
          yield* now
        )
        yield* wakeWorkers(done.webhooks)
        if (done.events < options.batch) return
      }
    })

    /** One attempt of a claimed row (its event read with the claim; undefined once purged): answers what to record. */
    const attempt = (webhook: Webhook, row: DeliveryRow, event: AcctEvent | undefined, secrets: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const token = row.lease_token!
        const startedAt = yield* now
        const attemptsMade = row.attempts + 1
        if (event === undefined) {
          // Purged by the retention period before it could be delivered.
          const attempt = { startedAt, durationMs: 0, status: null, error: "the event no longer exists (past ACCT_EVENT_RETENTION)", response: null }
          return { finished: { delivery: row, token, attempt, finish: { state: "failed" } }, verdict: undefined, startedAt } as const
        }
        const body = deliveryBody(event, webhook)
        const headers = deliveryHeaders({
          secrets,
          eventId: row.event_id,
          body,
          unixSeconds: Math.floor(startedAt.getTime() / 1000),
          attemptsMade,
          attemptsLeft: Math.max(0, options.schedule.length - attemptsMade),
          firstAttemptedAt: row.first_attempted_at ?? startedAt.toISOString()
        })
        const outcome: AttemptOutcome = yield* post(webhook.url, body, headers, { allowed: options.allowed, timeoutMs: options.timeoutMs })
        const answer = outcome._tag === "Answered" ? { status: outcome.status, retryAfter: parseRetryAfter(outcome.retryAfter, startedAt.getTime()) } : undefined
        const verdict = attemptVerdict(answer, attemptsMade, options.schedule, yield* Random.next)
        const finish: Finish =
          verdict._tag === "Delivered" ? { state: "delivered" } : verdict._tag === "Retry" ? { state: "pending", nextAttemptAt: new Date(startedAt.getTime() + Duration.toMillis(verdict.after)) } : { state: "failed" }
        const record = {
          startedAt,
          durationMs: outcome.durationMs,
          status: outcome._tag === "Answered" ? outcome.status : null,
          error: outcome._tag === "NoAnswer" ? `${outcome.reason}: ${outcome.message}` : verdict._tag === "GiveUp" ? verdict.why : null,
          response: outcome._tag === "Answered" ? outcome.body : null
        }
        return { finished: { delivery: row, token, attempt: record, finish }, verdict, startedAt } as const
      })

    /** After an attempt is recorded: a 410, or failing for 5 days, disables the endpoint. */
    const judge = (webhook: Webhook, verdict: ReturnType<typeof attemptVerdict>, startedAt: Date) =>
      Effect.gen(function* () {
        if (verdict._tag === "Gone") return yield* disable(webhook, `the receiver answered 410 Gone at ${startedAt.toISOString()}`)
        if (verdict._tag !== "Delivered") {
          const current = yield* webhooks.get(webhook.id)
          if (current.failingSince !== null && startedAt.getTime() - current.failingSince.getTime() >= Duration.toMillis(DISABLE_FAILING_AFTER)) {
            yield* disable(webhook, `every attempt failed since ${current.failingSince.toISOString()} (5 days)`)
          }
        }
      })

    const disable = (webhook: Webhook, reason: string) =>
      Effect.gen(function* () {
        yield* webhooks.setStatus(webhook.id, "disabled", reason)
        yield* queue.failPending(webhook.id, yield* now)
        yield* Effect.logWarning(`webhooks: disabled ${webhook.id} (${webhook.name}): ${reason}`)
      })

    /**
     * Claims and sends the endpoint's due rows until it is no longer enabled, or the dispatcher
     * stops — as a pipeline: up to `concurrency` attempts are in flight all the time, a claim
     * taking as many rows as there are free slots (their events read in one query), so one slow
     * attempt holds up only its own slot. Finished attempts wait for the recorder, which writes
     * all that are waiting in one transaction (group commit); a slot frees once its attempt is
     * recorded, so the lease covers the row until then. While attempts run, the leases of all of
     * them are renewed every third of the lease's length (one statement), so a slow receiver (up
     * to the 15 s timeout) keeps its rows; an attempt interrupted (stop past the grace period,
     * endpoint disabled) gives its lease back. On stop, no new claims; the attempts in flight run
     * to their end and are recorded.
     */
    const work = (id: string, wake: Queue.Queue<void>) =>
      Effect.gen(function* () {
        const inFlight = new Map<string, { readonly delivery: DeliveryRow; readonly token: string }>()
        const running = yield* FiberSet.make<void>()
        const recorder = yield* Queue.unbounded<{ readonly finished: FinishedAttempt; readonly recorded: Deferred.Deferred<boolean, unknown> }>()
        yield* Effect.forkScoped(
          Effect.gen(function* () {
            const waiting = yield* Queue.takeBetween(recorder, 1, RECORD_BATCH)
            const list = Chunk.toReadonlyArray(waiting)
            const done = yield* Effect.either(queue.finishMany(list.map((w) => w.finished)))
            yield* Effect.forEach(list, (w, i) => Deferred.complete(w.recorded, Either.isRight(done) ? Effect.succeed(done.right[i]!) : Effect.fail(done.left)), { discard: true })
          }).pipe(Effect.forever)
        )
        yield* Effect.forkScoped(
          Effect.gen(function* () {
            yield* Effect.sleep(Duration.millis(options.leaseMs / 3))
            const held = [...inFlight.values()]
            yield* survive(`renewing the lease of ${held.length} delivery(ies) to ${id}`, Effect.flatMap(now, (at) => queue.renew(held, new Date(at.getTime() + options.leaseMs))))
          }).pipe(Effect.forever)
        )

        /** Whether the last claim filled every free slot: more rows may be due than it took. */
        let saturated = false
        const send = (webhook: Webhook, row: DeliveryRow, event: AcctEvent | undefined, signing: ReadonlyArray<string>) => {
          let retry = false
          return survive(
            `delivering ${row.event_id} to ${webhook.id}`,
            Effect.gen(function* () {
              const done = yield* attempt(webhook, row, event, signing)
              retry = done.finished.finish.state === "pending"
              const recorded = yield* Deferred.make<boolean, unknown>()
              yield* Queue.offer(recorder, { finished: done.finished, recorded })
              if ((yield* Deferred.await(recorded)) && done.verdict !== undefined) yield* judge(webhook, done.verdict, done.startedAt)
            })
          ).pipe(
            Effect.onInterrupt(() => Effect.ignore(queue.release(row, row.lease_token!))),
            Effect.ensuring(
              Effect.suspend(() => {
                inFlight.delete(row.id)
                // A freed slot is worth a claim only when rows may be waiting for one: the last
                // claim was cut short by the free slots, this row is due again (a retry), or the
                // worker is idle now (it then looks up when the next row is due). New events wake
                // the worker from the fan-out.
                return saturated || retry || inFlight.size === 0 ? Queue.offer(wake, undefined) : Effect.void
              })
            )
          )
        }

        while (!stopping) {
          const entry = workers.get(id)
          if (!entry) break
          const free = options.concurrency - inFlight.size
          const at = yield* now
          if (free <= 0) {
            yield* pause(options.pollMs, wake)
            continue
          }
          const rows = yield* queue.claim(id, free, at, options.leaseMs)
          saturated = rows.length === free
          if (rows.length > 0) {
            for (const row of rows) inFlight.set(row.id, { delivery: row, token: row.lease_token! })
            const found = yield* Effect.either(Effect.zip(feed.bySeqs(rows.map((r) => Number(r.event_seq))), secrets.signing(id)))
            if (Either.isRight(found)) {
              const [events, signing] = found.right
              const bySeq = new Map(events.map((e) => [e.seq, e]))
              for (const row of rows) yield* FiberSet.run(running, send(entry.webhook, row, bySeq.get(Number(row.event_seq)), signing))
            } else {
              // Could not read them: the rows go back at once, and are claimed again after a pause.
              yield* Effect.logWarning(`webhooks: reading the events claimed for ${id} failed; trying again`).pipe(Effect.annotateLogs({ cause: String(found.left).slice(0, 500) }))
              yield* Effect.forEach(rows, (row) => Effect.ignore(queue.release(row, row.lease_token!)), { discard: true })
              for (const row of rows) inFlight.delete(row.id)
              yield* pause(options.pollMs, wake)
              continue
            }
            // Every free slot filled: more may be due; claim again once a slot frees.
            if (rows.length === free) continue
          }
          // Nothing more due now: wait for a wake-up (a new event, a slot freed), the next due row
          // (asked only while idle: a finishing attempt wakes a busy worker anyway), or the poll.
          const due = inFlight.size === 0 ? yield* queue.nextDue(id) : undefined
          yield* pause(due === undefined ? options.pollMs : Math.min(options.pollMs, Math.max(1, due.getTime() - at.getTime())), wake)
        }
        // Stopping (or disabled): the attempts in flight finish and are recorded before the recorder goes.
        yield* FiberSet.awaitEmpty(running)
      }).pipe(Effect.scoped)

    const worker = (id: string, wake: Queue.Queue<void>) =>
      Effect.gen(function* () {
        while (workers.has(id) && !stopping) {
          yield* survive(`the worker of ${id}`, work(id, wake))
          if (workers.has(id) && !stopping) yield* pause(options.pollMs, wake)
        }
      })

    /** Keeps one worker per enabled endpoint, with its current settings. */
    const supervise = Effect.gen(function* () {
      const enabled = yield* queue.enabled
      const ids = new Set<string>(enabled.map((w) => w.id))
      for (const [id, entry] of workers) {
        if (!ids.has(id)) {
          workers.delete(id)
          yield* Fiber.interrupt(entry.fiber)
        }
      }
      for (const webhook of enabled) {
        if (stopping) return
        const entry = workers.get(webhook.id)
        if (entry) {
          entry.webhook = webhook
          continue
        }
        const wake = yield* Queue.sliding<void>(1)
        const slot = { webhook, wake, fiber: undefined as unknown as Fiber.RuntimeFiber<void> }
        workers.set(webhook.id, slot)
        slot.fiber = yield* Effect.forkDaemon(worker(webhook.id, wake))
      }
    })

    const wakeups = yield* Queue.sliding<void>(1)
    // Subscribed before the first read (the feed's contract), so no commit goes unnoticed.
    const commits = yield* feed.subscribe
    // With no endpoint enabled a commit has nothing to wake (fanOut would return at once), and
    // waking costs a race of three fibers in `pause`: on an idle dispatcher that was a fifth of
    // a change's Effect operations. The poll still reads the endpoints (supervise) on time.
    yield* Effect.forkScoped(Stream.runForEach(commits, () => (workers.size > 0 ? Queue.offer(wakeups, undefined) : Effect.void)))
    const loop = yield* Effect.forkDaemon(
      Effect.gen(function* () {
        let supervisedAt = Number.NEGATIVE_INFINITY
        while (!stopping) {
          // With no endpoint enabled, a commit's wake-up has nothing to fan out, so the
          // endpoints are read once a poll interval rather than after every commit. An endpoint
          // enabled meanwhile misses nothing (its enabling set the cursor); its first delivery
          // waits for that read, at most a poll interval.
          const at = yield* Clock.currentTimeMillis
          if (workers.size > 0 || at - supervisedAt >= options.pollMs) {
            supervisedAt = at
            yield* survive("reading the endpoints", supervise)
          }
          if (stopping) return
          yield* survive("fanning out events", fanOut)
          yield* pause(options.pollMs, wakeups)
        }
      })
    )

    const stopped = yield* Deferred.make<void>()
    const stop = (within: Duration.DurationInput): Effect.Effect<void> =>
      Effect.suspend(() => {
        // A second stop (the scope closing after the server's drain stopped it) waits for the first.
        if (stopping) return Deferred.await(stopped)
        stopping = true
        return Effect.gen(function* () {
          yield* Deferred.succeed(halt, undefined)
          const settled = yield* Effect.gen(function* () {
            // The loop first: once it is done, no worker starts any more.
            yield* Fiber.await(loop)
            yield* Fiber.awaitAll([...workers.values()].map((w) => w.fiber))
          }).pipe(
            // A stop may run in a finalizer (uninterruptible): the wait must be interruptible for the timeout.
            Effect.interruptible,
            Effect.timeout(within),
            Effect.option
          )
          if (Option.isNone(settled)) {
            yield* Effect.logWarning("webhooks: attempts still in flight at the end of the grace period are abandoned; their leases are given back")
          }
          yield* Fiber.interruptAll([loop, ...[...workers.values()].map((w) => w.fiber)])
          yield* Effect.logInfo("webhooks: dispatcher stopped")
        }).pipe(Effect.ensuring(Deferred.succeed(stopped, undefined)))
      })
    yield* Effect.addFinalizer(() => stop(Duration.millis(options.graceMs)))
    return { stop } satisfies DispatcherHandle
  })

/** Runs until interrupted; then stops as `DispatcherHandle.stop(graceMs)` does. */
export const runDispatcher = (options: DispatcherOptions) => Effect.zipRight(startDispatcher(options), Effect.never)

/** The dispatcher running in this process, for its shutdown (the server's drain stops it at SIGTERM). */
export class WebhookDispatcher extends Context.Tag("@acct/webhooks/WebhookDispatcher")<WebhookDispatcher, DispatcherHandle>() {}

/**
 * The dispatcher as a background part of a process (the server): started with it, stopped with
 * it. ACCT_WEBHOOK_DISPATCH=false leaves it out (when `acct webhooks dispatch` runs elsewhere);
 * its handle then stops nothing.
 */
export const dispatcherInBackground = Layer.scoped(
  WebhookDispatcher,
  Effect.gen(function* () {
    const enabled = yield* Config.boolean("ACCT_WEBHOOK_DISPATCH").pipe(Config.withDefault(true))
    if (!enabled) return { stop: () => Effect.void } satisfies DispatcherHandle
    return yield* startDispatcher(yield* dispatcherOptions)
  }).pipe(Effect.orDie)
)
