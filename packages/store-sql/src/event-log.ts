/**
 * The events table: written by the mutation frame in each change's transaction (so an event
 * exists iff its change committed), read by the events API (`Events`, newest first) and by a
 * dispatcher (`EventFeed`, in commit order), and purged after the retention period.
 */
import {
  AcctEvent,
  type AccountId,
  type AccountsError,
  type EventContext,
  EventId,
  EventObject,
  Events,
  type Invocation,
  InvalidRequest,
  type ListEventsQuery,
  type NewEvent,
  NotFound,
  objectAccountId,
  objectId,
  type Page,
  parseDuration,
  RetryPolicy,
  type Unavailable
} from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import { Config, Context, Duration, Effect, Either, Layer, Option, Queue, Schema, type Scope, Stream } from "effect"
import { inTransaction } from "./statements.js"
import { paginate } from "./pages.js"
import { db } from "./sql-errors.js"

export const DEFAULT_EVENT_RETENTION = "90d"

/** ACCT_EVENT_RETENTION: how long events are kept (and listed); a number and a unit, default 90d. */
export const eventRetention = Config.string("ACCT_EVENT_RETENTION").pipe(
  Config.withDefault(DEFAULT_EVENT_RETENTION),
  Effect.mapError((e) => new InvalidRequest({ message: `ACCT_EVENT_RETENTION: ${String(e)}` })),
  Effect.flatMap((text) => Either.match(parseDuration(text, "ACCT_EVENT_RETENTION"), { onLeft: (message) => Effect.fail(new InvalidRequest({ message })), onRight: Effect.succeed }))
)

/**
 * Wake-ups from commits made elsewhere (other processes, other replicas): on Postgres the
 * LISTEN side of the NOTIFY that every event-writing transaction sends (see postgres.ts).
 */
export class ForeignCommits extends Context.Tag("@acct/store-sql/ForeignCommits")<ForeignCommits, Stream.Stream<void>>() {}

/** The Postgres channel an event-writing transaction notifies, with its last seq as payload. */
export const EVENTS_CHANNEL = "acct_events"

/**
 * Where a reader of the feed is: past every event up to this one, in commit order. On Postgres
 * events are ordered by their writing transaction's id (`xid`, xid8) and then `seq`; a reader
 * takes only events of transactions below the oldest one still running (the snapshot's xmin),
 * all of which have ended, so no event can commit behind the position later — without making
 * event-writing commits take turns. On SQLite (one writer at a time, so seq is commit order)
 * `xid` is always "0".
 */
export interface FeedPosition {
  readonly xid: string
  readonly seq: number
}

/** Before the first event. */
export const FEED_START: FeedPosition = { xid: "0", seq: 0 }

export interface EventRow {
  readonly seq: number | string
  readonly id: string
  readonly name: string
  readonly object_type: string
  readonly object_id: string
  readonly account_id: string | null
  readonly created_at: string
  readonly payload: string
  readonly context: string
  /** Postgres only: the writing transaction (xid8, as text). */
  readonly xid?: string
}

const decodeObject = Schema.decodeUnknownSync(EventObject)

export const toEvent = (row: EventRow): AcctEvent =>
  new AcctEvent(
    {
      id: row.id as EventId,
      seq: Number(row.seq),
      name: row.name,
      object: decodeObject({ _tag: row.object_type, value: JSON.parse(row.payload) }),
      accountId: row.account_id as AccountId | null,
      createdAt: new Date(row.created_at),
      // Written by this store only, from the domain's context: no need to decode it again.
      context: JSON.parse(row.context) as EventContext
    },
    true
  )

/** What every event of an invocation says about who made the change. */
const invocationContext = (invocation: Invocation): EventContext => ({
  actor: invocation.principal.actor,
  channel: invocation.channel,
  ...(invocation.requestId !== undefined ? { requestId: invocation.requestId } : {})
})

const PURGE_BATCH = 5_000

export class EventLog extends Effect.Service<EventLog>()("@acct/store-sql/EventLog", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const retention = yield* eventRetention
    const foreign = yield* Effect.serviceOption(ForeignCommits)
    /** Each subscriber's wake-ups: a queue of one, since a wake-up not yet taken says it all. */
    const subscribers = new Set<Queue.Queue<void>>()

    /**
     * Inserts the rows; on Postgres the same statement also NOTIFYs the other processes (sent at
     * the commit, with the highest seq) — one round trip fewer under the change's row lock.
     */
    const insertEvents = (rows: ReadonlyArray<Record<string, unknown>>) =>
      sql.onDialectOrElse({
        pg: () =>
          inTransaction(
            sql<{ seq: number | string }>`WITH written AS (INSERT INTO events ${sql.insert(rows)} RETURNING seq), notified AS (SELECT pg_notify(${EVENTS_CHANNEL}, (SELECT max(seq) FROM written)::text)) SELECT seq FROM written, notified`
          ),
        orElse: () => inTransaction(sql<{ seq: number | string }>`INSERT INTO events ${sql.insert(rows)} RETURNING seq`)
      })

    /**
     * Writes a change's events inside its transaction, stamped with the invocation's actor,
     * channel and request id (on Postgres each row also gets the transaction's id, the
     * column's default: see FeedPosition).
     */
    const append = (events: ReadonlyArray<NewEvent>, invocation: Invocation, at: Date): Effect.Effect<number, SqlError> =>
      events.length === 0
        ? Effect.succeed(0)
        : Effect.gen(function* () {
            const who = invocationContext(invocation)
            const createdAt = at.toISOString()
            const rows = events.map((event) => ({
              id: EventId.make(),
              name: event.name,
              object_type: event.object._tag,
              object_id: objectId(event.object),
              account_id: objectAccountId(event.object),
              created_at: createdAt,
              // An object's encoded form is its JSON (Account, ActionRun, Webhook: core's encoding
              // test), so no Schema.encode per event: on an import that was a sixth of its CPU.
              payload: JSON.stringify(event.object.value),
              context: JSON.stringify({ ...who, ...event.context })
            }))
            yield* insertEvents(rows)
            return rows.length
          })

    /** Tells this process's feed readers that events committed (call after the commit). */
    const committed = Effect.sync(() => {
      for (const wakeups of subscribers) wakeups.unsafeOffer(undefined)
    })

    const cutoff = (at: Date) => new Date(at.getTime() - Duration.toMillis(retention)).toISOString()

    /**
     * Deletes events past the retention period, a bounded batch at a time by the created-at
     * index; at most once a minute per process (the mutation frame calls it after commits).
     */
    let lastPurgeMs = Number.NEGATIVE_INFINITY
    const purgeExpired = (at: Date) =>
      at.getTime() - lastPurgeMs < 60_000
        ? Effect.void
        : Effect.suspend(() => {
            lastPurgeMs = at.getTime()
            const before = cutoff(at)
            const batch = sql<{ seq: number }>`DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE created_at < ${before} ORDER BY created_at LIMIT ${PURGE_BATCH}) RETURNING seq`
            const loop = (rounds: number): Effect.Effect<void, SqlError> =>
              Effect.flatMap(batch, (deleted) => (deleted.length === PURGE_BATCH && rounds > 1 ? loop(rounds - 1) : Effect.void))
            return loop(10)
          })

    const list = (query: ListEventsQuery, at: Date): Effect.Effect<Page<AcctEvent>, AccountsError | SqlError> =>
      Effect.gen(function* () {
        // Past the retention period an event is gone, whether or not the purge has run yet.
        const conditions: Array<Fragment> = [sql`created_at >= ${cutoff(at)}`]
        if (query.names !== undefined && query.names.length > 0) conditions.push(sql.in("name", query.names))
        if (query.ids !== undefined && query.ids.length > 0) conditions.push(sql.in("id", query.ids))
        if (query.objectIds !== undefined && query.objectIds.length > 0) conditions.push(sql.in("object_id", query.objectIds))
        if (query.objectType !== undefined) conditions.push(sql`object_type = ${query.objectType}`)
        if (query.accountId !== undefined) conditions.push(sql`account_id = ${query.accountId}`)
        if (query.since !== undefined) conditions.push(sql`created_at >= ${query.since.toISOString()}`)
        const page = yield* paginate<EventRow & { seq: number }>(
          query,
          (id) => sql`SELECT seq FROM events WHERE id = ${id}`,
          (cursor, order, limit) =>
            sql<EventRow & { seq: number }>`SELECT * FROM events WHERE ${sql.and(cursor ? [...conditions, sql`seq ${sql.literal(cursor.op)} ${cursor.seq}`] : conditions)} ORDER BY seq ${sql.literal(order)} LIMIT ${limit}`
        )
        return { items: page.rows.map(toEvent), next: page.next, prev: page.prev }
      })

    const get = (id: EventId, at: Date) =>
      Effect.flatMap(sql<EventRow>`SELECT * FROM events WHERE id = ${id} AND created_at >= ${cutoff(at)}`, (rows) =>
        rows[0] ? Effect.succeed(toEvent(rows[0])) : Effect.fail(NotFound.of("event", id))
      )

    const positionOf = (row: EventRow): FeedPosition => ({ xid: row.xid ?? "0", seq: Number(row.seq) })

    /** Only events of ended transactions (see FeedPosition). */
    const ended = sql.literal("xid < pg_snapshot_xmin(pg_current_snapshot())")

    const after = (from: FeedPosition, limit: number) =>
      Effect.map(
        sql.onDialectOrElse({
          pg: () => sql<EventRow>`SELECT * FROM events WHERE (xid, seq) > (${from.xid}::xid8, ${from.seq}) AND ${ended} ORDER BY xid, seq LIMIT ${limit}`,
          orElse: () => sql<EventRow>`SELECT * FROM events WHERE seq > ${from.seq} ORDER BY seq LIMIT ${limit}`
        }),
        (rows) => ({ events: rows.map(toEvent), position: rows.length > 0 ? positionOf(rows[rows.length - 1]!) : from })
      )

    /** The events of `seqs` still kept (past the retention period an event is gone), in any order. */
    const bySeqs = (seqs: ReadonlyArray<number>, at: Date) =>
      seqs.length === 0
        ? Effect.succeed([])
        : Effect.map(sql<EventRow>`SELECT * FROM events WHERE ${sql.in("seq", seqs)} AND created_at >= ${cutoff(at)}`, (rows) => rows.map(toEvent))

    const latest = Effect.map(
      sql.onDialectOrElse({
        pg: () => sql<EventRow>`SELECT xid, seq FROM events WHERE ${ended} ORDER BY xid DESC, seq DESC LIMIT 1`,
        orElse: () => sql<EventRow>`SELECT seq FROM events ORDER BY seq DESC LIMIT 1`
      }),
      (rows) => (rows[0] ? positionOf(rows[0]) : FEED_START)
    )

    /**
     * A subscriber's wake-ups: this process's commits and, on Postgres, the other processes'
     * (ForeignCommits), in a queue of its own, so on Postgres the NOTIFY stream offers into it
     * directly (no forwarding fiber). Not a Stream: pulling each wake-up through
     * `Stream.runForEach` cost the dispatcher ≈ 56 Effect steps of channel machinery per commit,
     * a queue's take ≈ 24. Not `Stream.merge` either: it forked a fiber and raced two more for
     * every element.
     */
    const subscribe = Effect.gen(function* () {
      const wakeups = yield* Effect.acquireRelease(Queue.sliding<void>(1), (queue) => Effect.sync(() => subscribers.delete(queue)))
      subscribers.add(wakeups)
      if (Option.isSome(foreign)) yield* Effect.forkScoped(Stream.runForEach(foreign.value, () => Queue.offer(wakeups, undefined)))
      return wakeups as Queue.Dequeue<void>
    })

    return { append, committed, purgeExpired, list, get, after, bySeqs, latest, subscribe } as const
  })
}) {}

/**
 * For a dispatcher (webhook deliveries, queues): the committed events in commit order, and a
 * signal when more may have committed.
 *
 * Contract:
 * - `after(position, limit)`: up to `limit` (1–1,000) events past `position`, in commit order,
 *   and the position past the last of them. Once an event has been read, no event commits
 *   behind it later (see FeedPosition), so "everything after my position" never misses one.
 *   Keep your own position (past what you handled) durably; `latest` is the position past the
 *   committed events, to start without the backlog. On Postgres an event shows up once every
 *   transaction older than its own has ended: a long-running transaction (with a write) delays
 *   the feed — not the writers — until it ends.
 * - `subscribe`: once it has run (in a scope), its queue gets a wake-up whenever events may
 *   have committed (wake-ups not yet taken collapse into one) — in this process at once, from
 *   other processes on Postgres (LISTEN/NOTIFY, sent inside the writing transaction, so
 *   delivered only on commit). A wake-up is a hint, never data: it can come early (a change
 *   made inside an outer transaction), twice, or not at all (another process on SQLite, a
 *   LISTEN connection not yet open or lost). So: subscribe, then read, then wait for a wake-up
 *   or a few seconds, whichever is first, and read again. Never poll in a loop without
 *   waiting: on SQLite a read is synchronous, and such a loop starves the event loop (the
 *   writers whose events it waits for included).
 * - Events are deleted after the retention period (ACCT_EVENT_RETENTION, default 90 days) and a
 *   redaction rewrites its account's events in place: render what you send from the event at
 *   the time you send it, and keep no copies of payloads.
 */
export interface EventFeedService {
  readonly after: (position: FeedPosition, limit: number) => Effect.Effect<{ readonly events: ReadonlyArray<AcctEvent>; readonly position: FeedPosition }, Unavailable | AccountsError>
  readonly latest: Effect.Effect<FeedPosition, AccountsError>
  /**
   * The events of these seqs still kept, in any order (one read for a dispatcher's claim); a
   * seq purged by the retention period is missing from the answer.
   */
  readonly bySeqs: (seqs: ReadonlyArray<number>) => Effect.Effect<ReadonlyArray<AcctEvent>, Unavailable | AccountsError>
  readonly subscribe: Effect.Effect<Queue.Dequeue<void>, never, Scope.Scope>
}

export class EventFeed extends Context.Tag("@acct/store-sql/EventFeed")<EventFeed, EventFeedService>() {}

const now = Effect.map(Effect.clockWith((clock) => clock.currentTimeMillis), (ms) => new Date(ms))

/** The Events port (the API's reads) and the dispatcher's feed, on the event log. */
export const SqlEventsLive: Layer.Layer<Events | EventFeed, never, EventLog | RetryPolicy> = Layer.effectContext(
  Effect.gen(function* () {
    const log = yield* EventLog
    const retryPolicy = yield* RetryPolicy
    const read = <A, E>(effect: Effect.Effect<A, E | SqlError>) => retryPolicy.retry(db(effect))
    return Context.make(Events, {
      list: (query) => read(Effect.flatMap(now, (at) => log.list(query, at))),
      get: (id) => read(Effect.flatMap(now, (at) => log.get(id, at)))
    }).pipe(
      Context.add(EventFeed, {
        after: (position, limit) => read(log.after(position, Math.min(Math.max(1, Math.trunc(limit)), 1000))),
        latest: read(log.latest),
        bySeqs: (seqs) => read(Effect.flatMap(now, (at) => log.bySeqs(seqs, at))),
        subscribe: log.subscribe
      })
    )
  })
)
