/**
 * The frame of every mutation: the policy's permission check, the idempotency rule (replay or
 * refuse), one transaction holding the change, its audit entry, its idempotency record and its
 * events, re-reading on a stale version, retrying transient database errors, and an audit entry
 * for a refused attempt. Operations (sql-accounts.ts) supply only the work inside the
 * transaction, and say what events it makes through `emit`.
 */
import {
  AccountsError,
  type AccountsOperation,
  checkIdempotencyKey,
  Conflict,
  decideIdempotency,
  IDEMPOTENCY_TTL_MS,
  type Invocation,
  isRecordedRefusal,
  keyInFlight,
  type NewEvent,
  requestFingerprint,
  requireChangeAllowed,
  RetryPolicy
} from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Data, Effect, Either, Schema } from "effect"
import type { StaleRead } from "./accounts-repository.js"
import { EventLog } from "./event-log.js"
import { RunLog } from "./run-log.js"
import { sha256 } from "./sha256.js"
import { inTransaction } from "./statements.js"
import { fromSqlError, isUniqueViolation } from "./sql-errors.js"

/** Another request with the same idempotency key committed first; replay its result. */
class KeyRace extends Data.TaggedError("KeyRace") {}

/** A refusal on a try that did not look the key up first: it may be a repeat; look, then decide. */
class MaybeReplay extends Data.TaggedError("MaybeReplay") {}

export interface Mutation<A, I> {
  /** The operation's name in the audit trail and its idempotency record (`add-tag`, `enable`). */
  readonly name: string
  /** The port operation whose policy applies, and how a refusal words it. */
  readonly operation: AccountsOperation
  readonly doing?: string | undefined
  /** What the idempotency fingerprint covers: the operation's target and inputs. */
  readonly request: unknown
  /** The id of the account the change is on, when it names one that exists: a refusal's audit entry carries it. */
  readonly account?: Effect.Effect<string | null> | undefined
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

    /** Idempotency records end with their 24 hours: expired ones are deleted by a keyed write, at most once a minute. */
    let lastPurgeMs = Number.NEGATIVE_INFINITY
    const purgeExpiredKeys = (at: Date) =>
      at.getTime() - lastPurgeMs < 60_000
        ? Effect.void
        : Effect.suspend(() => {
            lastPurgeMs = at.getTime()
            return sql`DELETE FROM idempotency_keys WHERE expires_at <= ${at.toISOString()}`
          })

    /**
     * One change's transaction, uninterruptible: a change that has begun is finished (or fails)
     * whatever its caller does. Interrupting a Postgres statement cancels it through a query on
     * another pooled connection; a transaction interrupted while it held an account's row lock
     * (its HTTP client hung up) waited for one while every other connection waited for that
     * lock — all of a server's changes stood still until the statement timeout (5 s). Ctrl-C and
     * shutdown still stop a bulk run between changes, and RetryPolicy's pauses between tries.
     */
    const oneChange = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.uninterruptible(sql.withTransaction(effect))

    const mutate = <A, I>(invocation: Invocation, op: Mutation<A, I>): Effect.Effect<A, AccountsError> => {
      const key = invocation.idempotencyKey
      // Keys are per caller: the principal whose credentials made the request (a delegating
      // front end's key, not the person it names).
      const principalId = `${invocation.principal.actor.kind}:${invocation.principal.actor.id}`
      const fingerprint = key !== undefined ? requestFingerprint(op.name, op.request, sha256) : ""
      const record = (at: Date, fields: { readonly response: string; readonly error: string | null }) =>
        inTransaction(sql`INSERT INTO idempotency_keys ${sql.insert({
          principal_id: principalId,
          idempotency_key: key!,
          operation: op.name,
          request_hash: fingerprint,
          response: fields.response,
          error: fields.error,
          created_at: at.toISOString(),
          expires_at: new Date(at.getTime() + IDEMPOTENCY_TTL_MS).toISOString()
        })}`)

      /** The recorded outcome, when the key's record answers this request (core's idempotency rule). */
      const replay = Effect.gen(function* () {
        if (key === undefined) return undefined
        const rows = yield* inTransaction(sql<{ request_hash: string; response: string; error: string | null; created_at: string; expires_at: string }>`
          SELECT request_hash, response, error, created_at, expires_at FROM idempotency_keys
          WHERE principal_id = ${principalId} AND idempotency_key = ${key}`)
        const row = rows[0]
        if (!row) return undefined
        const stored = { fingerprint: row.request_hash, pending: false, createdAt: new Date(row.created_at), expiresAt: new Date(row.expires_at) }
        const decision = decideIdempotency(key, stored, fingerprint, yield* now)
        switch (decision._tag) {
          case "Run":
            // Expired: its key is free again.
            yield* sql`DELETE FROM idempotency_keys WHERE principal_id = ${principalId} AND idempotency_key = ${key}`
            return undefined
          case "Refuse":
            return yield* decision.error
          case "Replay":
            return row.error !== null && row.error !== undefined
              ? Either.left(yield* Schema.decodeUnknown(Schema.parseJson(AccountsError))(row.error).pipe(Effect.orDie))
              : Either.right(yield* Schema.decodeUnknown(Schema.parseJson(op.result))(row.response).pipe(Effect.orDie))
        }
      })

      /** The operation's own refusal (recorded for the key, so a retry gets it again). */
      let refusal: AccountsError | undefined

      /**
       * One try in one transaction. With a key, the record is normally looked up first; a first
       * try without a pinned version skips that lookup (the common case is a new key): the
       * record's unique key catches a repeat when the change's own record is written (a
       * KeyRace), and a refusal is checked against the record before it is believed (a
       * MaybeReplay) — both go again, looking first, so a repeat still replays.
       */
      const once = (lookFirst: boolean) =>
        oneChange(
          Effect.gen(function* () {
            if (lookFirst) {
              const replayed = yield* replay
              if (replayed) return { outcome: replayed, replayed: true, events: 0 }
            }
            const at = yield* now
            const pending: Array<NewEvent> = []
            const result = yield* op.work(at, (events) => Effect.sync(() => void pending.push(...events))).pipe(
              Effect.catchIf(isRecordedRefusal, (e) => {
                const believed = lookFirst || key === undefined
                if (believed) refusal = e as AccountsError
                return Effect.fail(believed ? e : new MaybeReplay())
              })
            )
            if (key !== undefined) {
              // The results (Account, RunResult) encode to their own JSON (dates as ISO strings;
              // checked by core's encoding test), so plain JSON.stringify is their encoded form,
              // at a fifth of Schema.encode's cost; a replay decodes it through the schema.
              const response = JSON.stringify(result)
              yield* record(at, { response, error: null }).pipe(Effect.catchIf(isUniqueViolation, () => Effect.fail(new KeyRace())))
              yield* purgeExpiredKeys(at)
            }
            // Last: on Postgres this takes the lock that orders event-writing commits.
            const events = yield* eventLog.append(pending, invocation, at)
            return { outcome: Either.right(result) as Either.Either<A, AccountsError>, replayed: false, events }
          })
        )

      // A stale read without a pinned version is someone else's commit landing first: read again
      // (up to 5 times). A lost race on the idempotency key: go again once, which replays.
      // Plain recursion rather than Effect.retry: this is the hot path and usually never fails.
      const attempt = (staleReads: number, keyRaces: number, lookFirst: boolean): Effect.Effect<{ outcome: Either.Either<A, AccountsError>; replayed: boolean; events: number }, AccountsError> =>
        once(lookFirst).pipe(
          Effect.catchTags({
            StaleRead: (e) => {
              if (invocation.expectedVersion === undefined && staleReads < 5) return attempt(staleReads + 1, keyRaces, lookFirst)
              const conflict = new Conflict({ message: `account ${e.accountId} was changed by someone else (expected version ${invocation.expectedVersion ?? "current"}); read it again and retry` })
              refusal = conflict
              return Effect.fail(conflict)
            },
            KeyRace: () => (keyRaces < 1 ? attempt(staleReads, keyRaces + 1, true) : Effect.fail(keyInFlight(key!))),
            MaybeReplay: () => attempt(staleReads, keyRaces, true),
            SqlError: (e) => Effect.fail(fromSqlError(e))
          })
        )

      /**
       * A refused attempt is audited; when it was the operation's own refusal under a key, the
       * refusal is the key's record too (with the audit entry, in one transaction).
       */
      const recordRefusal = (error: AccountsError) =>
        Effect.all([now, op.account ?? Effect.succeed(null)]).pipe(
          Effect.flatMap(([at, accountId]) => {
            const audit = runLog.writeAudit(invocation, { operation: op.name, accountId, outcome: `refused:${error._tag}` }, at)
            if (key === undefined || error !== refusal) return audit
            const encoded = JSON.stringify(Schema.encodeSync(AccountsError)(error))
            return oneChange(Effect.zipRight(audit, record(at, { response: "null", error: encoded }).pipe(Effect.catchIf(isUniqueViolation, () => Effect.void))))
          }),
          Effect.ignore
        )

      return Effect.gen(function* () {
        yield* requireChangeAllowed(invocation, op.operation, op.doing)
        if (key !== undefined) {
          const bad = checkIdempotencyKey(key)
          if (bad) return yield* bad
        }
        const { outcome, replayed, events } = yield* retryPolicy.retry(attempt(0, 0, key !== undefined && invocation.expectedVersion !== undefined))
        if (events > 0) {
          yield* eventLog.committed
          // After the commit, not inside it: a purge never holds a change's locks.
          yield* Effect.ignore(Effect.flatMap(now, eventLog.purgeExpired))
        }
        if (replayed && invocation.onReplay) yield* invocation.onReplay
        return { outcome }
        // A replayed refusal is answered again (after the audit tap), not audited again.
      }).pipe(Effect.tapError(recordRefusal), Effect.flatMap(({ outcome }) => outcome))
    }

    return { mutate } as const
  })
}) {}
