/**
 * The webhook delivery queue: one row per (event, endpoint) — per replay too — and one per
 * attempt. Every step is its own short transaction, and no transaction is open while a POST is
 * in flight:
 *
 * 1. fan-out: under the cursor row's lock, events after the cursor (a feed position: on
 *    Postgres the writing transaction's id and the seq) become delivery rows for the endpoints
 *    that want them, and the cursor moves on — in one transaction, so a crash either
 *    did all of it or none (`INSERT … ON CONFLICT DO NOTHING` makes a repeat harmless);
 * 2. claim: due rows of one endpoint are leased (`lease_until`, `lease_token`) by one
 *    dispatcher. On Postgres the claim selects with `FOR UPDATE SKIP LOCKED`, so replicas
 *    claiming together take different rows and never wait on each other; on SQLite one writer
 *    at a time makes the same statement exclusive. New deliveries are mostly leased by the
 *    fan-out itself, as they are inserted, up to the free slots the dispatcher offers it: no
 *    claim statement for them, and their events are already read;
 * 3. finish: the attempt is logged and the row delivered, failed, or due again later — only by
 *    the holder of the lease (the token), so a dispatcher that outlived its lease records
 *    nothing over another's work. Attempts finished together are recorded in one transaction.
 *
 * A dispatcher killed between claim and finish leaves a lease that expires: the row is sent
 * again (same event, same `webhook-id`) — the only way a duplicate arises.
 *
 * Why not pg-boss or graphile-worker: both are Postgres-only job runners with their own schema,
 * and acct must queue the same way on SQLite (its default store); the deliveries also belong
 * beside the endpoints and events they join (one database, one backup, one migration path).
 * What they would add here — a locked claim that skips rows other workers hold — is the single
 * `FOR UPDATE SKIP LOCKED` below.
 */
import { randomAlphanumeric, type Webhook, type WebhookAttempt } from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect } from "effect"
import { FEED_START, type FeedPosition } from "./event-log.js"
import { toWebhook, type WebhookRow } from "./sql-webhooks.js"

export type DeliveryState = "pending" | "delivered" | "failed"

export interface DeliveryRow {
  readonly seq: number | string
  readonly id: string
  readonly webhook_id: string
  readonly event_id: string
  readonly event_seq: number | string
  readonly generation: number
  readonly state: DeliveryState
  readonly attempts: number
  readonly next_attempt_at: string
  readonly lease_until: string | null
  readonly lease_token: string | null
  readonly first_attempted_at: string | null
  readonly finished_at: string | null
  readonly created_at: string
}

export interface AttemptRow {
  readonly seq: number | string
  readonly delivery_id: string
  readonly webhook_id: string
  readonly event_id: string
  readonly attempt: number
  readonly started_at: string
  readonly duration_ms: number
  readonly status: number | null
  readonly error: string | null
  readonly response: string | null
}

const toAttempt = (row: AttemptRow): WebhookAttempt => ({
  deliveryId: row.delivery_id,
  webhookId: row.webhook_id,
  eventId: row.event_id,
  attempt: Number(row.attempt),
  startedAt: new Date(row.started_at),
  durationMs: Number(row.duration_ms),
  status: row.status === null ? null : Number(row.status),
  error: row.error,
  response: row.response
})

/** An event as the queue needs it. */
export interface QueuedEvent {
  readonly seq: number
  readonly id: string
  readonly name: string
}

export interface AttemptRecord {
  readonly startedAt: Date
  readonly durationMs: number
  readonly status: number | null
  readonly error: string | null
  readonly response: string | null
}

/** An enabled endpoint as a dispatcher reads it, with the seq of its newest secret (a rotation changes it). */
export interface EnabledWebhook {
  readonly webhook: Webhook
  readonly secretsSeq: number
}

/** A lease to write on the deliveries a fan-out inserts: up to `slots` per endpoint, held until `until`. */
export interface FanOutLease {
  readonly slots: ReadonlyMap<string, number>
  readonly until: Date
}

/** How the attempt leaves its delivery. */
export type Finish =
  | { readonly state: "delivered" }
  | { readonly state: "pending"; readonly nextAttemptAt: Date }
  | { readonly state: "failed" }

/** One attempt to record: its delivery as claimed, the claim's token, what happened and what follows. */
export interface FinishedAttempt {
  readonly delivery: DeliveryRow
  readonly token: string
  readonly attempt: AttemptRecord
  readonly finish: Finish
}

const newDeliveryId = () => `whd_${randomAlphanumeric(24)}`
const CHUNK = 200

export const makeWebhookQueue = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const skipLocked = sql.onDialectOrElse({ pg: () => sql.literal("FOR UPDATE SKIP LOCKED"), orElse: () => sql.literal("") })

  /** Inserts the rows (a repeat of one already there is skipped); answers the ids inserted. */
  const insertDeliveries = (rows: ReadonlyArray<Omit<DeliveryRow, "seq">>) =>
    Effect.map(
      Effect.forEach(
        Array.from({ length: Math.ceil(rows.length / CHUNK) }, (_, i) => rows.slice(i * CHUNK, (i + 1) * CHUNK)),
        (chunk) => sql<{ id: string }>`INSERT INTO webhook_deliveries ${sql.insert(chunk as never)} ON CONFLICT DO NOTHING RETURNING id`
      ),
      (chunks) => new Set(chunks.flat().map((r) => r.id))
    )

  const deliveryRow = (webhookId: string, event: QueuedEvent, generation: number, at: string, lease?: { readonly until: string; readonly token: string }): Omit<DeliveryRow, "seq"> => ({
    id: newDeliveryId(),
    webhook_id: webhookId,
    event_id: event.id,
    event_seq: event.seq,
    generation,
    state: "pending",
    attempts: 0,
    next_attempt_at: at,
    lease_until: lease?.until ?? null,
    lease_token: lease?.token ?? null,
    first_attempted_at: null,
    finished_at: null,
    created_at: at
  })

  /** The enabled endpoints, each with the seq of its newest secret. */
  const enabled = Effect.map(
    sql<WebhookRow & { secrets_seq: number | string | null }>`SELECT w.*, (SELECT MAX(s.seq) FROM webhook_secrets s WHERE s.webhook_id = w.id) AS secrets_seq
      FROM webhooks w WHERE w.status = 'enabled' ORDER BY w.seq`,
    (rows): ReadonlyArray<EnabledWebhook> => rows.map((row) => ({ webhook: toWebhook(row), secretsSeq: Number(row.secrets_seq ?? 0) }))
  )

  return {
    enabled,

    /** Starts the cursor at `from` (past the newest event when the first dispatcher ever starts); no-op later. */
    initCursor: (from: FeedPosition) =>
      Effect.asVoid(
        sql.onDialectOrElse({
          pg: () => sql`INSERT INTO webhook_cursor (id, event_seq, event_xid) VALUES (1, ${from.seq}, ${from.xid}::xid8) ON CONFLICT DO NOTHING`,
          orElse: () => sql`INSERT INTO webhook_cursor (id, event_seq) VALUES (1, ${from.seq}) ON CONFLICT DO NOTHING`
        })
      ),

    /**
     * Turns the events after the cursor (read by `read`, at most a batch) into deliveries, and
     * moves the cursor past them. An endpoint's first `lease.slots` new deliveries are inserted
     * leased to the caller (one token for all), so it sends them without claiming them. Answers
     * how many events were read, the endpoints as read for the fan-out (none when there was no
     * event), the deliveries leased, and the endpoints given deliveries nobody leased yet.
     */
    fanOut: <E>(
      read: (after: FeedPosition) => Effect.Effect<{ readonly events: ReadonlyArray<QueuedEvent>; readonly position: FeedPosition }, E>,
      at: Date,
      lease: FanOutLease
    ): Effect.Effect<
      {
        readonly events: number
        readonly enabled: ReadonlyArray<EnabledWebhook> | undefined
        readonly leased: ReadonlyArray<DeliveryRow>
        readonly unleased: ReadonlySet<string>
      },
      E | SqlError
    > =>
      sql.withTransaction(
        Effect.gen(function* () {
          // The UPDATE takes the row's lock at once (on SQLite, the write lock): fan-outs take turns.
          const cursor = (yield* sql<{ event_seq: number | string; event_xid?: string }>`UPDATE webhook_cursor SET event_seq = event_seq WHERE id = 1 RETURNING *`)[0]
          const { events, position } = yield* read(cursor ? { xid: cursor.event_xid ?? "0", seq: Number(cursor.event_seq) } : FEED_START)
          if (events.length === 0) return { events: 0, enabled: undefined, leased: [], unleased: new Set<string>() }
          const hooks = yield* enabled
          const stamp = at.toISOString()
          const held = { until: lease.until.toISOString(), token: randomAlphanumeric(16) }
          const slots = new Map(lease.slots)
          const rows = events.flatMap((event) =>
            hooks.filter((h) => h.webhook.wants(event.name)).map(({ webhook }) => {
              const free = slots.get(webhook.id) ?? 0
              if (free > 0) slots.set(webhook.id, free - 1)
              return deliveryRow(webhook.id, event, 0, stamp, free > 0 ? held : undefined)
            })
          )
          const inserted = yield* insertDeliveries(rows)
          yield* sql.onDialectOrElse({
            pg: () => sql`UPDATE webhook_cursor SET event_seq = ${position.seq}, event_xid = ${position.xid}::xid8 WHERE id = 1`,
            orElse: () => sql`UPDATE webhook_cursor SET event_seq = ${position.seq} WHERE id = 1`
          })
          return {
            events: events.length,
            enabled: hooks,
            // (Their serial `seq` is not read back: sending, renewing and finishing go by id.)
            leased: rows.filter((r) => r.lease_token !== null && inserted.has(r.id)).map((r) => ({ ...r, seq: 0 })),
            unleased: new Set(rows.filter((r) => r.lease_token === null).map((r) => r.webhook_id))
          }
        })
      ),

    /** Leases up to `limit` due deliveries of an enabled endpoint, oldest event first. */
    claim: (webhookId: string, limit: number, at: Date, leaseMs: number) =>
      Effect.gen(function* () {
        const now = at.toISOString()
        const token = randomAlphanumeric(16)
        const until = new Date(at.getTime() + leaseMs).toISOString()
        return yield* sql<DeliveryRow>`UPDATE webhook_deliveries SET lease_until = ${until}, lease_token = ${token}
          WHERE id IN (
            SELECT d.id FROM webhook_deliveries d
            WHERE d.state = 'pending' AND d.webhook_id = ${webhookId} AND d.next_attempt_at <= ${now} AND (d.lease_until IS NULL OR d.lease_until <= ${now})
            ORDER BY d.event_seq, d.generation LIMIT ${limit} ${skipLocked}
          )
          RETURNING *`
      }),

    /**
     * Logs finished attempts and moves their deliveries on, all in one transaction (a group
     * commit: one write lock and one sync for many attempts); each only if its token still holds
     * the lease. Answers, in order, whether each was recorded. Also keeps each endpoint's
     * failing-since clock, as if the attempts had been recorded one after another.
     */
    finishMany: (items: ReadonlyArray<FinishedAttempt>) =>
      items.length === 0
        ? Effect.succeed([] as ReadonlyArray<boolean>)
        : sql.withTransaction(
            Effect.gen(function* () {
              const recorded: Array<boolean> = []
              const logged: Array<Record<string, unknown>> = []
              /** Per endpoint, what the attempts recorded do to failing_since, in their order. */
              const failing = new Map<string, { readonly clear: boolean; readonly since: string | undefined }>()
              for (const { attempt, delivery, finish, token } of items) {
                const started = attempt.startedAt.toISOString()
                const done = new Date(attempt.startedAt.getTime() + attempt.durationMs).toISOString()
                const moved = yield* sql<{ id: string }>`UPDATE webhook_deliveries SET
                    state = ${finish.state},
                    attempts = attempts + 1,
                    next_attempt_at = ${finish.state === "pending" ? finish.nextAttemptAt.toISOString() : done},
                    first_attempted_at = COALESCE(first_attempted_at, ${started}),
                    finished_at = ${finish.state === "pending" ? null : done},
                    lease_until = NULL, lease_token = NULL
                  WHERE id = ${delivery.id} AND lease_token = ${token}
                  RETURNING id`
                recorded.push(moved.length > 0)
                if (moved.length === 0) continue
                logged.push({
                  delivery_id: delivery.id,
                  webhook_id: delivery.webhook_id,
                  event_id: delivery.event_id,
                  attempt: delivery.attempts + 1,
                  started_at: started,
                  duration_ms: attempt.durationMs,
                  status: attempt.status,
                  error: attempt.error,
                  response: attempt.response
                })
                // A delivery clears the clock; a failure starts it unless it runs already.
                const before = failing.get(delivery.webhook_id)
                if (finish.state === "delivered") failing.set(delivery.webhook_id, { clear: true, since: undefined })
                else if (before === undefined) failing.set(delivery.webhook_id, { clear: false, since: started })
                else if (before.since === undefined) failing.set(delivery.webhook_id, { clear: true, since: started })
              }
              yield* Effect.forEach(
                Array.from({ length: Math.ceil(logged.length / CHUNK) }, (_, i) => logged.slice(i * CHUNK, (i + 1) * CHUNK)),
                (chunk) => sql`INSERT INTO webhook_attempts ${sql.insert(chunk as never)}`,
                { discard: true }
              )
              for (const [webhookId, { clear, since }] of failing) {
                if (since === undefined) yield* sql`UPDATE webhooks SET failing_since = NULL WHERE id = ${webhookId} AND failing_since IS NOT NULL`
                // Cleared, then failing again: the clock starts at that failure.
                else if (clear) yield* sql`UPDATE webhooks SET failing_since = ${since} WHERE id = ${webhookId}`
                else yield* sql`UPDATE webhooks SET failing_since = ${since} WHERE id = ${webhookId} AND failing_since IS NULL`
              }
              return recorded as ReadonlyArray<boolean>
            })
          ),

    /**
     * Extends the leases of deliveries whose attempts are still running, each only while its
     * claim's token holds it. Answers the ids whose lease it extended.
     */
    renew: (held: ReadonlyArray<{ readonly delivery: DeliveryRow; readonly token: string }>, until: Date) =>
      held.length === 0
        ? Effect.succeed(new Set<string>())
        : Effect.map(
            sql<{ id: string }>`UPDATE webhook_deliveries SET lease_until = ${until.toISOString()}
              WHERE ${sql.in("id", held.map((h) => h.delivery.id))} AND ${sql.in("lease_token", [...new Set(held.map((h) => h.token))])} AND state = 'pending'
              RETURNING id`,
            (rows) => new Set(rows.map((r) => r.id))
          ),

    /** Gives a lease back (the attempt was abandoned): the row is due again at once, for any dispatcher. */
    release: (delivery: DeliveryRow, token: string) =>
      Effect.asVoid(sql`UPDATE webhook_deliveries SET lease_until = NULL, lease_token = NULL WHERE id = ${delivery.id} AND lease_token = ${token}`),

    /** Drops an endpoint's pending deliveries (it was disabled for good reasons: 410, 5 days failing). */
    failPending: (webhookId: string, at: Date) =>
      Effect.asVoid(sql`UPDATE webhook_deliveries SET state = 'failed', finished_at = ${at.toISOString()}, lease_until = NULL, lease_token = NULL WHERE webhook_id = ${webhookId} AND state = 'pending'`),

    /** New deliveries of `events` (a replay) to `webhooks`, each a generation after the last. */
    replay: (events: ReadonlyArray<QueuedEvent>, webhooks: ReadonlyArray<Webhook>, at: Date) =>
      sql.withTransaction(
        Effect.gen(function* () {
          const stamp = at.toISOString()
          let count = 0
          for (const event of events) {
            for (const webhook of webhooks) {
              const last = yield* sql<{ g: number | string | null }>`SELECT MAX(generation) AS g FROM webhook_deliveries WHERE webhook_id = ${webhook.id} AND event_id = ${event.id}`
              const generation = last[0]?.g === null || last[0]?.g === undefined ? 0 : Number(last[0].g) + 1
              yield* insertDeliveries([deliveryRow(webhook.id, event, generation, stamp)])
              count++
            }
          }
          return count
        })
      ),

    /** An endpoint's attempts, newest first. */
    attempts: (webhookId: string, limit: number) =>
      Effect.map(sql<AttemptRow>`SELECT * FROM webhook_attempts WHERE webhook_id = ${webhookId} ORDER BY seq DESC LIMIT ${limit}`, (rows) => rows.map(toAttempt)),

    /** An endpoint's deliveries, newest first. */
    deliveries: (webhookId: string, limit: number) =>
      sql<DeliveryRow>`SELECT * FROM webhook_deliveries WHERE webhook_id = ${webhookId} ORDER BY seq DESC LIMIT ${limit}`
  }
})

export type WebhookQueue = Effect.Effect.Success<typeof makeWebhookQueue>
