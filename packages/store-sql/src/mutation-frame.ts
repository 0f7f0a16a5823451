/**
 * The frame of every mutation: the policy's permission check, the idempotency rule (replay or
 * refuse), one transaction holding the change, its audit entry, its idempotency record and its
 * events, re-reading on a stale version, retrying transient database errors, and an audit entry
 * for a refused attempt. Operations (sql-accounts.ts) supply only the work inside the
 * transaction, and say what events it makes through `emit`.
 */
import {
  type AccountsError,
  type AccountsOperation,
  checkIdempotencyKey,
  Conflict,
  decideIdempotency,
  IDEMPOTENCY_TTL_MS,
  type Invocation,
  keyInFlight,
  type NewEvent,
  requestFingerprint,
  requireAllowed,
  RetryPolicy
} from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Data, Effect, Schema } from "effect"
import type { StaleRead } from "./accounts-repository.js"
import { EventLog } from "./event-log.js"
import { RunLog } from "./run-log.js"
import { fromSqlError, isUniqueViolation } from "./sql-errors.js"

/** Another request with the same idempotency key committed first; replay its result. */
class KeyRace extends Data.TaggedError("KeyRace") {}

export interface Mutation<A, I> {
  /** The operation's name in the audit trail and its idempotency record (`add-tag`, `enable`). */
  readonly name: string
  /** The port operation whose policy applies, and how a refusal words it. */
  readonly operation: AccountsOperation
  readonly doing?: string | undefined
  /** What the idempotency fingerprint covers: the operation's target and inputs. */
  readonly request: unknown
  readonly result: Schema.Schema<A, I>
  /**
   * The change, inside the transaction. `emit` records the events it makes (core's
   * `accountChangeEvents`, `runEvents`, `relationEvent` …): the frame writes them last in the
   * same transaction, stamped with the invocation's actor and channel, so they exist iff the
   * change commits; a retried attempt starts with none.
   */
  readonly work: (now: Date, emit: Emit) => Effect.Effect<A, AccountsError | StaleRead | SqlError>
}

export type Emit = (events: ReadonlyArray<NewEvent>) => Effect.Effect<void>

export const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

export class MutationFrame extends Effect.Service<MutationFrame>()("@acct/store-sql/MutationFrame", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const retryPolicy = yield* RetryPolicy
    const runLog = yield* RunLog
    const eventLog = yield* EventLog

    /**
     * Idempotency records end with their 24 hours: expired ones (the store's and the HTTP
     * layer's, which share the database) are deleted by a keyed write, at most once a minute.
     */
    let lastPurgeMs = Number.NEGATIVE_INFINITY
    const purgeExpiredKeys = (at: Date) =>
      at.getTime() - lastPurgeMs < 60_000
        ? Effect.void
        : Effect.suspend(() => {
            lastPurgeMs = at.getTime()
            const cutoff = at.toISOString()
            return Effect.zipRight(sql`DELETE FROM idempotency_keys WHERE expires_at <= ${cutoff}`, sql`DELETE FROM http_idempotency WHERE expires_at <= ${cutoff}`)
          })

    const mutate = <A, I>(invocation: Invocation, op: Mutation<A, I>): Effect.Effect<A, AccountsError> => {
      const key = invocation.idempotencyKey
      const principalId = `${invocation.principal.actor.kind}:${invocation.principal.actor.id}`
      const fingerprint = key !== undefined ? requestFingerprint(op.name, op.request) : ""

      /** The recorded result, when the key's record answers this request (core's idempotency rule). */
      const replay = Effect.gen(function* () {
        if (key === undefined) return undefined
        const rows = yield* sql<{ request_hash: string; response: string; created_at: string; expires_at: string }>`
          SELECT request_hash, response, created_at, expires_at FROM idempotency_keys
          WHERE principal_id = ${principalId} AND idempotency_key = ${key}`
        const row = rows[0]
        if (!row) return undefined
        const record = { fingerprint: row.request_hash, pending: false, createdAt: new Date(row.created_at), expiresAt: new Date(row.expires_at) }
        const decision = decideIdempotency(key, record, fingerprint, yield* now)
        switch (decision._tag) {
          case "Run":
            // Expired: its key is free again.
            yield* sql`DELETE FROM idempotency_keys WHERE principal_id = ${principalId} AND idempotency_key = ${key}`
            return undefined
          case "Refuse":
            return yield* decision.error
          case "Replay":
            return { value: yield* Schema.decodeUnknown(Schema.parseJson(op.result))(row.response).pipe(Effect.orDie) }
        }
      })

      const once = sql.withTransaction(
        Effect.gen(function* () {
          const replayed = yield* replay
          if (replayed) return { value: replayed.value, replayed: true, events: 0 }
          const at = yield* now
          const pending: Array<NewEvent> = []
          const result = yield* op.work(at, (events) => Effect.sync(() => void pending.push(...events)))
          if (key !== undefined) {
            const response = JSON.stringify(yield* Schema.encode(op.result)(result).pipe(Effect.orDie))
            yield* sql`INSERT INTO idempotency_keys ${sql.insert({
              principal_id: principalId,
              idempotency_key: key,
              operation: op.name,
              request_hash: fingerprint,
              response,
              created_at: at.toISOString(),
              expires_at: new Date(at.getTime() + IDEMPOTENCY_TTL_MS).toISOString()
            })}`.pipe(Effect.catchIf(isUniqueViolation, () => Effect.fail(new KeyRace())))
            yield* purgeExpiredKeys(at)
          }
          // Last: on Postgres this takes the lock that orders event-writing commits.
          const events = yield* eventLog.append(pending, invocation, at)
          return { value: result, replayed: false, events }
        })
      )

      // A stale read without a pinned version is someone else's commit landing first: read again
      // (up to 5 times). A lost race on the idempotency key: go again once, which replays.
      // Plain recursion rather than Effect.retry: this is the hot path and usually never fails.
      const attempt = (staleReads: number, keyRaces: number): Effect.Effect<{ value: A; replayed: boolean; events: number }, AccountsError> =>
        once.pipe(
          Effect.catchTags({
            StaleRead: (e) =>
              invocation.expectedVersion === undefined && staleReads < 5
                ? attempt(staleReads + 1, keyRaces)
                : Effect.fail(new Conflict({ message: `account ${e.accountId} was changed by someone else (expected version ${invocation.expectedVersion ?? "current"}); read it again and retry` })),
            KeyRace: () => (keyRaces < 1 ? attempt(staleReads, keyRaces + 1) : Effect.fail(keyInFlight(key!))),
            SqlError: (e) => Effect.fail(fromSqlError(e))
          })
        )

      const recordRefusal = (error: AccountsError) =>
        now.pipe(
          Effect.flatMap((at) => runLog.writeAudit(invocation, { operation: op.name, accountId: null, outcome: `refused:${error._tag}` }, at)),
          Effect.ignore
        )

      return Effect.gen(function* () {
        yield* requireAllowed(invocation.principal, op.operation, op.doing)
        if (key !== undefined) {
          const bad = checkIdempotencyKey(key)
          if (bad) return yield* bad
        }
        const { value, replayed, events } = yield* retryPolicy.retry(attempt(0, 0))
        if (events > 0) {
          yield* eventLog.committed
          // After the commit, not inside it: a purge never holds a change's locks.
          yield* Effect.ignore(Effect.flatMap(now, eventLog.purgeExpired))
        }
        if (replayed && invocation.onReplay) yield* invocation.onReplay
        return value
      }).pipe(Effect.tapError(recordRefusal))
    }

    return { mutate } as const
  })
}) {}
