/**
 * The dispatcher: committed events → signed POSTs, at least once.
 *
 * - One fan-out loop turns new events into delivery rows (woken by the event feed, and every
 *   `pollMs` besides, since a wake-up is only a hint), leasing them in the same transaction to
 *   the endpoints' workers as far as they have free slots: the common case costs no claim.
 * - One worker per enabled endpoint sends what the fan-out leased to it, claims that
 *   endpoint's other due rows (retries, a backlog, a killed dispatcher's rows), and keeps up to
 *   `concurrency` of them in flight: a slow or dead endpoint holds up only its own worker.
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
  WebhookSecrets,
  type SigningSecrets
} from "@acct/core"
import { type AttemptRecord, type DeliveryRow, type EnabledWebhook, EndpointChanges, EventFeed, type Finish, makeWebhookQueue } from "@acct/store-sql"
import { Clock, Config, Context, Deferred, Duration, Effect, Either, Fiber, FiberSet, Layer, Option, Queue, Random, Stream } from "effect"
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
/**
 * How long a finished attempt may wait for others to be recorded with it, while the endpoint
 * has most of its slots free: the POST has been sent, so this delays only the slot's release,
 * not the delivery.
 */
const RECORD_WINDOW_MS = 10

/**
 * A pause in real time, even under TestClock: the recording window is about the attempts the
 * event loop is about to finish, which a virtual clock would not wait for.
 */
const realPause = (ms: number) =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), ms)
    return Effect.sync(() => clearTimeout(timer))
  })
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

/** A delivery this dispatcher holds, from its lease (a claim's or the fan-out's) until its attempt is recorded. */
interface Held {
  readonly delivery: DeliveryRow
  /** The lease's token; a later claim of the row by this dispatcher (after its lease lapsed) replaces it. */
  token: string
  /** Until when the lease is known to be this dispatcher's (the claim's, then each renewal's). */
  leaseUntil: number
}

/** A finished attempt waiting for the recorder. */
interface Waiting {
  readonly held: Held
  readonly attempt: AttemptRecord
  readonly finish: Finish
  readonly recorded: Deferred.Deferred<boolean>
}

/** One enabled endpoint: its settings as last read, its worker, and the deliveries it holds. */
interface Worker {
  webhook: Webhook
  /** The seq of the endpoint's newest secret as last read: a rotation changes it. */
  secretsSeq: number
  /** Its signing secrets as read for `secretsSeq` (decrypted once, not per claim). */
  signing: { readonly secretsSeq: number; readonly secrets: SigningSecrets } | undefined
  readonly wake: Queue.Queue<void>
  fiber: Fiber.RuntimeFiber<void>
  /** Every delivery held: never more than `concurrency` together with `reserved`. */
  readonly held: Map<string, Held>
  /** Leased by the fan-out with their events already read, not started yet. */
  readonly handed: Array<{ readonly held: Held; readonly event: AcctEvent }>
  /** Slots offered to the fan-out running now. */
  reserved: number
  /**
   * Due rows may wait that nobody leased (a claim filled every free slot, a fan-out found no free
   * slot, an attempt is to be retried): the worker claims, oldest first, before the fan-out leases
   * new deliveries to it again, so new events never overtake a backlog.
   */
  backlog: boolean
  /** When its own retry is due next (the worker claims then). */
  retryAt: number
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
    const changes = yield* Effect.serviceOption(EndpointChanges)
    /** Set once stopping: nothing new is claimed; `halt` wakes whatever waits. */
    let stopping = false
    const halt = yield* Deferred.make<void>()
    /** Waits for `ms`, a wake-up, or the stop, whichever comes first. */
    const pause = (ms: number, wake: Queue.Queue<void>) => Effect.raceAll([Queue.take(wake), Effect.sleep(Duration.millis(ms)), Deferred.await(halt)])

    yield* survive("starting the event cursor", Effect.flatMap(feed.latest, queue.initCursor)).pipe(Effect.retry({ times: 5 }))

    const workers = new Map<string, Worker>()
    const freeSlots = (w: Worker) => options.concurrency - w.held.size - w.reserved

    /** The endpoint's signing secrets: read again only after a rotation or once an older secret expires. */
    const signingOf = (w: Worker) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const cached = w.signing
        if (cached !== undefined && cached.secretsSeq === w.secretsSeq && (cached.secrets.until === null || at < cached.secrets.until.getTime())) return cached.secrets.values
        const read = { secretsSeq: w.secretsSeq, secrets: yield* secrets.signing(w.webhook.id) }
        w.signing = read
        return read.secrets.values
      })

    /**
     * Turns new events into deliveries, leasing them straight to the workers with free slots and
     * no backlog; answers the endpoints as the fan-out read them (undefined when it read none).
     */
    const fanOut: Effect.Effect<ReadonlyArray<EnabledWebhook> | undefined, unknown> = Effect.gen(function* () {
      // No endpoint enabled (as supervise just read): nothing to do. The events committed
      // meanwhile stay behind the cursor; enabling the first endpoint moves the cursor past
      // them, in its own transaction (sql-webhooks.ts: setStatus), so no commit of a server
      // nobody subscribed to costs a write of its own.
      if (workers.size === 0) return undefined
      let read: ReadonlyArray<EnabledWebhook> | undefined
      while (true) {
        const at = yield* now
        const slots = new Map<string, number>()
        for (const [id, w] of workers) if (!stopping && !w.backlog && freeSlots(w) > 0) slots.set(id, freeSlots(w))
        for (const [id, n] of slots) workers.get(id)!.reserved += n
        const events = new Map<number, AcctEvent>()
        const done = yield* queue
          .fanOut(
            (after) =>
              Effect.map(feed.after(after, options.batch), ({ events: found, position }) => {
                for (const e of found) events.set(e.seq, e)
                return { events: found.map((e) => ({ seq: e.seq, id: e.id, name: e.name })), position }
              }),
            at,
            { slots, until: new Date(at.getTime() + options.leaseMs) }
          )
          .pipe(
            Effect.ensuring(
              Effect.sync(() => {
                for (const [id, n] of slots) if (workers.has(id)) workers.get(id)!.reserved -= n
              })
            )
          )
        // The endpoints as read inside the fan-out: their settings and secrets' seq are applied
        // before the rows are handed over (a rotation signs this fan-out's deliveries already).
        if (done.enabled !== undefined) {
          read = done.enabled
          yield* supervise(done.enabled)
        }
        const woken = new Set(done.unleased)
        for (const id of done.unleased) if (workers.has(id)) workers.get(id)!.backlog = true
        for (const row of done.leased) {
          const w = workers.get(row.webhook_id)
          const event = events.get(Number(row.event_seq))
          const held: Held = { delivery: row, token: row.lease_token!, leaseUntil: at.getTime() + options.leaseMs }
          if (w === undefined || event === undefined) {
            yield* Effect.ignore(queue.release(row, held.token))
            continue
          }
          w.held.set(row.id, held)
          w.handed.push({ held, event })
          woken.add(row.webhook_id)
        }
        yield* Effect.forEach(woken, (id) => (workers.has(id) ? Queue.offer(workers.get(id)!.wake, undefined) : Effect.void), { discard: true })
        if (done.events < options.batch) return read
      }
    })

    /** One attempt of a held row (its event read with the claim; undefined once purged): answers what to record. */
    const attempt = (webhook: Webhook, row: DeliveryRow, event: AcctEvent | undefined, signing: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const startedAt = yield* now
        const attemptsMade = row.attempts + 1
        if (event === undefined) {
          // Purged by the retention period before it could be delivered.
          const attempt = { startedAt, durationMs: 0, status: null, error: "the event no longer exists (past ACCT_EVENT_RETENTION)", response: null }
          return { attempt, finish: { state: "failed" }, verdict: undefined, startedAt } as const
        }
        const body = deliveryBody(event, webhook)
        const headers = deliveryHeaders({
          secrets: signing,
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
        const record: AttemptRecord = {
          startedAt,
          durationMs: outcome.durationMs,
          status: outcome._tag === "Answered" ? outcome.status : null,
          error: outcome._tag === "NoAnswer" ? `${outcome.reason}: ${outcome.message}` : verdict._tag === "GiveUp" ? verdict.why : null,
          response: outcome._tag === "Answered" ? outcome.body : null
        }
        return { attempt: record, finish, verdict, startedAt } as const
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
     * Keeps every held lease alive and records finished attempts — in one fiber, so a renewal
     * and a recording never lock the same rows from two connections at once (on Postgres they
     * deadlocked under load: the aborted recording's rows were then sent again). All waiting
     * attempts are written in one transaction (group commit). A recording that fails is tried
     * again, never dropped: its row stays held, its lease renewed, until it is recorded — a
     * dropped recording left the lease to expire and another claim to send the event again.
     * Every third of the lease the leases of all held rows are renewed in one statement; a row
     * whose lease did not renew (another dispatcher took it) is marked lapsed, so an attempt not
     * started yet is not sent.
     */
    const recordAndRenew = (w: Worker, recorder: Queue.Queue<Waiting>) =>
      Effect.gen(function* () {
        const renewEvery = options.leaseMs / 3
        let renewedAt = yield* Clock.currentTimeMillis
        let failures = 0
        const waiting: Array<Waiting> = []
        while (true) {
          if (waiting.length === 0) {
            const wait = Math.max(1, renewedAt + renewEvery - (yield* Clock.currentTimeMillis))
            const first = yield* Effect.timeoutOption(Queue.take(recorder), Duration.millis(wait))
            if (Option.isSome(first)) waiting.push(first.value)
          }
          // A few more attempts may finish within the window: recorded in the same transaction.
          if (waiting.length > 0 && freeSlots(w) >= options.concurrency / 2) yield* realPause(RECORD_WINDOW_MS)
          waiting.push(...(yield* Queue.takeAll(recorder)))
          const at = yield* Clock.currentTimeMillis
          if (at - renewedAt >= renewEvery) {
            renewedAt = at
            const held = [...w.held.values()].map((h) => ({ held: h, delivery: h.delivery, token: h.token }))
            const until = at + options.leaseMs
            const renewed = yield* Effect.either(queue.renew(held, new Date(until)))
            if (Either.isRight(renewed)) {
              // Not renewed under the token it had: another dispatcher holds the row now (unless this one claimed it back meanwhile).
              for (const h of held) if (h.held.token === h.token) h.held.leaseUntil = renewed.right.has(h.delivery.id) ? until : 0
            }
            else yield* Effect.logWarning(`webhooks: renewing the lease of ${held.length} delivery(ies) to ${w.webhook.id} failed; trying again`).pipe(Effect.annotateLogs({ cause: String(renewed.left).slice(0, 500) }))
          }
          if (waiting.length === 0) continue
          const batch = waiting.slice(0, RECORD_BATCH)
          const done = yield* Effect.either(queue.finishMany(batch.map(({ attempt, finish, held }) => ({ delivery: held.delivery, token: held.token, attempt, finish }))))
          if (Either.isRight(done)) {
            failures = 0
            waiting.splice(0, batch.length)
            yield* Effect.forEach(batch, (item, i) => Deferred.succeed(item.recorded, done.right[i]!), { discard: true })
          } else {
            failures++
            yield* Effect.logWarning(`webhooks: recording ${batch.length} attempt(s) to ${w.webhook.id} failed; trying again`).pipe(Effect.annotateLogs({ cause: String(done.left).slice(0, 500) }))
            yield* Effect.sleep(Duration.millis(Math.min(renewEvery, 50 * 2 ** Math.min(failures, 10))))
          }
        }
      })

    /**
     * Sends the endpoint's deliveries until it is no longer enabled, or the dispatcher stops — as
     * a pipeline: up to `concurrency` attempts in flight all the time. New deliveries mostly
     * arrive leased from the fan-out, their events already read; the worker claims (as many rows
     * as there are free slots, their events read in one query) when rows may wait that nobody
     * leased, when its own retry is due, and once a poll interval (rows of a killed dispatcher,
     * of a replay, of another replica's fan-out). Finished attempts wait for the recorder; a slot
     * frees once its attempt is recorded, so the lease covers the row until then. An attempt
     * interrupted (stop past the grace period, endpoint disabled) gives its lease back. On stop,
     * no new claims; the attempts in flight run to their end and are recorded.
     */
    const work = (w: Worker) =>
      Effect.gen(function* () {
        const id = w.webhook.id
        const running = yield* FiberSet.make<void>()
        const recorder = yield* Queue.unbounded<Waiting>()
        yield* Effect.forkScoped(recordAndRenew(w, recorder))

        const send = (held: Held, event: AcctEvent | undefined, signing: ReadonlyArray<string>) => {
          let retry = false
          const webhook = w.webhook
          return survive(
            `delivering ${held.delivery.event_id} to ${id}`,
            Effect.gen(function* () {
              // A lease that lapsed (its renewal failed for a whole lease, or another dispatcher
              // took the row) is not used: the row is another's to send now.
              if ((yield* Clock.currentTimeMillis) >= held.leaseUntil) return
              const done = yield* attempt(webhook, held.delivery, event, signing)
              const recorded = yield* Deferred.make<boolean>()
              yield* Queue.offer(recorder, { held, attempt: done.attempt, finish: done.finish, recorded })
              if (!(yield* Deferred.await(recorded))) return
              // Recorded as due again: the worker claims it then (not sooner: its lease is gone only now).
              if (done.finish.state === "pending") {
                retry = true
                w.retryAt = Math.min(w.retryAt, done.finish.nextAttemptAt.getTime())
              }
              if (done.verdict !== undefined) yield* judge(webhook, done.verdict, done.startedAt)
            })
          ).pipe(
            Effect.onInterrupt(() => Effect.ignore(queue.release(held.delivery, held.token))),
            Effect.ensuring(
              Effect.suspend(() => {
                w.held.delete(held.delivery.id)
                // A freed slot is worth waking for only when rows may be waiting for one (a
                // backlog, this row due again) or the worker is idle now. New events wake the
                // worker from the fan-out.
                return w.backlog || retry || w.held.size === 0 ? Queue.offer(w.wake, undefined) : Effect.void
              })
            )
          )
        }

        /** Starts the attempts of held rows (their events as read; undefined once purged). */
        const start = (rows: ReadonlyArray<{ readonly held: Held; readonly event: AcctEvent | undefined }>) =>
          Effect.gen(function* () {
            const signing = yield* Effect.either(signingOf(w))
            if (Either.isLeft(signing)) {
              // Could not read the secrets: the rows go back at once, and are claimed again after a pause.
              yield* Effect.logWarning(`webhooks: reading the signing secrets of ${id} failed; trying again`).pipe(Effect.annotateLogs({ cause: String(signing.left).slice(0, 500) }))
              yield* giveBack(rows.map((r) => r.held))
              return false
            }
            for (const row of rows) yield* FiberSet.run(running, send(row.held, row.event, signing.right))
            return true
          })

        const giveBack = (held: ReadonlyArray<Held>) =>
          Effect.forEach(
            held,
            (h) => {
              w.held.delete(h.delivery.id)
              return Effect.ignore(queue.release(h.delivery, h.token))
            },
            { discard: true }
          )

        let claimedAt = Number.NEGATIVE_INFINITY
        yield* Effect.gen(function* () {
          while (!stopping && workers.get(id) === w) {
            if (w.handed.length > 0 && !(yield* start(w.handed.splice(0)))) {
              yield* pause(options.pollMs, w.wake)
              continue
            }
            const at = (yield* now).getTime()
            const free = freeSlots(w)
            // With a backlog, a claim waits for a quarter of the slots to be free (or the worker
            // to be idle): one statement for several rows instead of one per finished attempt,
            // which kept a worker that fell behind (a cold start on a busy host) behind.
            const backlogClaim = w.backlog && (free >= Math.ceil(options.concurrency / 4) || w.held.size === 0)
            if (free > 0 && (backlogClaim || at >= w.retryAt || at - claimedAt >= options.pollMs)) {
              claimedAt = at
              if (at >= w.retryAt) w.retryAt = Number.POSITIVE_INFINITY
              const rows = yield* queue.claim(id, free, new Date(at), options.leaseMs)
              // Every free slot filled: more may be due; claim again once a slot frees.
              w.backlog = rows.length === free
              const fresh: Array<Held> = []
              for (const row of rows) {
                const mine = w.held.get(row.id)
                if (mine !== undefined) {
                  // Already in flight here (its lease lapsed and this claim took it again): the
                  // attempt running goes on under the new lease instead of a second send.
                  mine.token = row.lease_token!
                  mine.leaseUntil = at + options.leaseMs
                  continue
                }
                const held: Held = { delivery: row, token: row.lease_token!, leaseUntil: at + options.leaseMs }
                w.held.set(row.id, held)
                fresh.push(held)
              }
              if (fresh.length > 0) {
                const events = yield* Effect.either(feed.bySeqs(fresh.map((h) => Number(h.delivery.event_seq))))
                if (Either.isLeft(events)) {
                  yield* Effect.logWarning(`webhooks: reading the events claimed for ${id} failed; trying again`).pipe(Effect.annotateLogs({ cause: String(events.left).slice(0, 500) }))
                  yield* giveBack(fresh)
                  yield* pause(options.pollMs, w.wake)
                  continue
                }
                const bySeq = new Map(events.right.map((e) => [e.seq, e]))
                if (!(yield* start(fresh.map((held) => ({ held, event: bySeq.get(Number(held.delivery.event_seq)) }))))) {
                  yield* pause(options.pollMs, w.wake)
                  continue
                }
              }
              if (w.backlog) continue
            }
            // Nothing more to claim now: wait for a wake-up (new deliveries handed over, a slot
            // freed), the worker's next retry, or the poll.
            const next = Math.min(claimedAt + options.pollMs, w.retryAt)
            yield* pause(Math.max(1, next - at), w.wake)
          }
          // Stopping (or disabled): the attempts in flight finish and are recorded before the recorder goes.
          yield* FiberSet.awaitEmpty(running)
        }).pipe(
          // Handed over but not started: the leases go back, for whichever dispatcher runs next.
          Effect.ensuring(Effect.suspend(() => giveBack(w.handed.splice(0).map((h) => h.held))))
        )
      }).pipe(Effect.scoped)

    const worker = (w: Worker) =>
      Effect.gen(function* () {
        while (workers.get(w.webhook.id) === w && !stopping) {
          yield* survive(`the worker of ${w.webhook.id}`, work(w))
          if (workers.get(w.webhook.id) === w && !stopping) yield* pause(options.pollMs, w.wake)
        }
      })

    /** Keeps one worker per enabled endpoint (as just read), with its current settings. */
    const supervise = (enabled: ReadonlyArray<EnabledWebhook>) =>
      Effect.gen(function* () {
        const ids = new Set<string>(enabled.map((e) => e.webhook.id))
        for (const [id, entry] of workers) {
          if (!ids.has(id)) {
            workers.delete(id)
            yield* Fiber.interrupt(entry.fiber)
          }
        }
        for (const { webhook, secretsSeq } of enabled) {
          if (stopping) return
          const entry = workers.get(webhook.id)
          if (entry) {
            entry.webhook = webhook
            entry.secretsSeq = secretsSeq
            continue
          }
          const w: Worker = {
            webhook,
            secretsSeq,
            signing: undefined,
            wake: yield* Queue.sliding<void>(1),
            fiber: undefined as unknown as Fiber.RuntimeFiber<void>,
            held: new Map(),
            handed: [],
            reserved: 0,
            backlog: false,
            retryAt: Number.POSITIVE_INFINITY
          }
          workers.set(webhook.id, w)
          w.fiber = yield* Effect.forkDaemon(worker(w))
        }
      })

    const wakeups = yield* Queue.sliding<void>(1)
    /** Set by an endpoint's change in this process: the endpoints are read at once, not at the next poll. */
    let endpointsChanged = false
    // Subscribed before the first read (the feed's contract), so no commit goes unnoticed.
    const commits = yield* feed.subscribe
    // With no endpoint enabled a commit has nothing to wake (fanOut would return at once), and
    // waking costs a race of three fibers in `pause`: on an idle dispatcher that was a fifth of
    // a change's Effect operations. The poll still reads the endpoints (supervise) on time.
    // A loop of its own rather than Effect.forever, which yields to the scheduler every round.
    const onCommits: Effect.Effect<never> = Effect.flatMap(Queue.take(commits), () => (workers.size > 0 ? Effect.zipRight(Queue.offer(wakeups, undefined), onCommits) : onCommits))
    yield* Effect.forkScoped(onCommits)
    if (Option.isSome(changes)) {
      yield* Effect.forkScoped(
        Stream.runForEach(yield* changes.value.subscribe, () =>
          Effect.suspend(() => {
            endpointsChanged = true
            return Queue.offer(wakeups, undefined)
          })
        )
      )
    }
    const loop = yield* Effect.forkDaemon(
      Effect.gen(function* () {
        let supervisedAt = Number.NEGATIVE_INFINITY
        while (!stopping) {
          // The endpoints are read once a poll interval (and at once after a change made in this
          // process), and by every fan-out that finds events — which supervises from that read —
          // so a commit's wake-up costs no read of its own.
          const at = yield* Clock.currentTimeMillis
          if (endpointsChanged || at - supervisedAt >= options.pollMs) {
            endpointsChanged = false
            supervisedAt = at
            yield* survive("reading the endpoints", Effect.flatMap(queue.enabled, supervise))
          }
          if (stopping) return
          yield* survive(
            "fanning out events",
            Effect.map(fanOut, (read) => {
              if (read !== undefined) supervisedAt = at
            })
          )
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
