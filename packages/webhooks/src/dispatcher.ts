/**
 * The dispatcher: committed events → signed POSTs, at least once.
 *
 * - One fan-out loop turns new events into delivery rows (woken by the event feed, and every
 *   `pollMs` besides, since a wake-up is only a hint).
 * - One worker per enabled endpoint claims that endpoint's due rows and sends up to
 *   `concurrency` of them at a time: a slow or dead endpoint holds up only its own worker.
 * - Every attempt is logged; its verdict (core's attemptVerdict) delivers the row, schedules it
 *   again (ACCT_WEBHOOK_RETRY_SCHEDULE, jittered, no sooner than a 429/503's Retry-After), or
 *   gives up. A 410, or every attempt failing for 5 days, disables the endpoint.
 *
 * All waiting goes through Effect's Clock (TestClock drives the retry schedule in tests); the
 * state lives in the database (webhook-queue.ts), so a process killed at any moment loses
 * nothing: what it had claimed is sent again once its lease expires.
 *
 * Leases are short (10 s) and renewed every third of that while a claim's attempts run, so an
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
  Events,
  InvalidRequest,
  parseRetryAfter,
  parseRetrySchedule,
  personaSignature,
  standardWebhookHeaders,
  type Webhook,
  Webhooks,
  WebhookSecrets
} from "@acct/core"
import { type DeliveryRow, EventFeed, type Finish, makeWebhookQueue } from "@acct/store-sql"
import { Clock, Config, Context, Deferred, Duration, Effect, Either, Fiber, Layer, Option, Queue, Random, Stream } from "effect"
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
  /** Attempts in flight per endpoint (default 4). */
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
    concurrency: yield* positive("ACCT_WEBHOOK_CONCURRENCY", 4),
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
    const events = yield* Events
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
        const done = yield* queue.fanOut((after) => Effect.map(feed.after(after, options.batch), (list) => list.map((e) => ({ seq: e.seq, id: e.id, name: e.name }))), yield* now)
        yield* wakeWorkers(done.webhooks)
        if (done.events < options.batch) return
      }
    })

    const attempt = (webhook: Webhook, row: DeliveryRow, secrets: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const token = row.lease_token!
        const startedAt = yield* now
        const attemptsMade = row.attempts + 1
        const found = yield* Effect.either(events.get(row.event_id as AcctEvent["id"]))
        if (Either.isLeft(found)) {
          if (found.left._tag !== "NotFound") return yield* found.left
          // Purged by the retention period before it could be delivered.
          yield* queue.finish(row, token, { startedAt, durationMs: 0, status: null, error: "the event no longer exists (past ACCT_EVENT_RETENTION)", response: null }, { state: "failed" })
          return
        }
        const body = deliveryBody(found.right, webhook)
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
        const recorded = yield* queue.finish(
          row,
          token,
          {
            startedAt,
            durationMs: outcome.durationMs,
            status: outcome._tag === "Answered" ? outcome.status : null,
            error: outcome._tag === "NoAnswer" ? `${outcome.reason}: ${outcome.message}` : verdict._tag === "GiveUp" ? verdict.why : null,
            response: outcome._tag === "Answered" ? outcome.body : null
          },
          finish
        )
        if (!recorded) return
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
     * Sends one claim's rows together. While they run, the claim's lease is renewed every third
     * of its length, so a slow receiver (up to the 15 s timeout) keeps its rows; an attempt
     * interrupted (stop past the grace period, endpoint disabled) gives its lease back.
     */
    const sendClaim = (webhook: Webhook, rows: ReadonlyArray<DeliveryRow>, signing: ReadonlyArray<string>) => {
      const token = rows[0]!.lease_token!
      const renew = Effect.gen(function* () {
        yield* Effect.sleep(Duration.millis(options.leaseMs / 3))
        yield* survive(`renewing the lease of ${rows.length} delivery(ies) to ${webhook.id}`, Effect.flatMap(now, (at) => queue.renew(rows, token, new Date(at.getTime() + options.leaseMs))))
      }).pipe(Effect.forever)
      const sends = Effect.forEach(
        rows,
        (row) => survive(`delivering ${row.event_id} to ${webhook.id}`, attempt(webhook, row, signing)).pipe(Effect.onInterrupt(() => Effect.ignore(queue.release(row, token)))),
        { concurrency: "unbounded", discard: true }
      )
      return Effect.raceFirst(sends, renew)
    }

    /** Claims and sends the endpoint's due rows until it is no longer enabled, or the dispatcher stops. */
    const work = (id: string, wake: Queue.Queue<void>) =>
      Effect.gen(function* () {
        while (!stopping) {
          const entry = workers.get(id)
          if (!entry) return
          const at = yield* now
          const rows = yield* queue.claim(id, options.concurrency, at, options.leaseMs)
          if (rows.length === 0) {
            const due = yield* queue.nextDue(id)
            yield* pause(due === undefined ? options.pollMs : Math.min(options.pollMs, Math.max(1, due.getTime() - at.getTime())), wake)
            continue
          }
          yield* sendClaim(entry.webhook, rows, yield* secrets.signing(id))
        }
      })

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
    yield* Effect.forkScoped(Stream.runForEach(commits, () => Queue.offer(wakeups, undefined)))
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
