/**
 * Idempotency-Key records for gateway mode: acct in front of an upstream provider. The upstream
 * keeps no record acct can rely on (SoftwareOne has no idempotency at all, so a repeated
 * `disable` is a 400 "wrong state"), and its change cannot share a local transaction, so each
 * keyed change claims its key here first (`pending`), calls the upstream, and records the
 * answer. The rule is core's (idempotency.ts): the same request again replays the first answer,
 * the same key on another request is a 422, a repeat while the first runs is a 409; a claim
 * whose process died stops blocking after `STALE_CLAIM_MS`.
 */
import {
  Account,
  type AccountsEffect,
  AccountsError,
  type AccountsService,
  ActionRun,
  checkIdempotencyKey,
  decideIdempotency,
  IDEMPOTENCY_TTL_MS,
  Importer,
  type Invocation,
  isRecordedRefusal,
  keyInFlight,
  requestFingerprint
} from "@acct/core"
import { SqlClient } from "@effect/sql"
import { Effect, Either, Schema } from "effect"
import { now } from "./mutation-frame.js"
import { fromSqlError, isUniqueViolation } from "./sql-errors.js"

/** Longer than any upstream call with its retries: after it, a claim is a dead process's. */
const STALE_CLAIM_MS = 5 * 60 * 1000

/**
 * An upstream's records are built without acct's id checks (SoftwareOne's type ids are
 * `softwareone:Client`), so a replay rebuilds them the same way: each field decoded by its
 * schema (dates from their ISO text), a value acct's own checks would refuse kept as recorded.
 */
const rebuilt = <A>(Class: { new (props: never, trusted: true): A; readonly fields: Schema.Struct.Fields }) => {
  const decoders = Object.entries(Class.fields).map(([key, field]) => [key, Schema.decodeUnknownEither(Schema.Struct({ value: field }) as unknown as Schema.Schema<{ readonly value: unknown }>)] as const)
  return (json: unknown): A => {
    const record = json as Record<string, unknown>
    const props = Object.fromEntries(decoders.map(([key, decode]) => [key, Either.getOrElse(Either.map(decode({ value: record[key] }), (d) => d.value), () => record[key])]))
    return new Class(props as never, true)
  }
}
const rebuiltAccount = rebuilt(Account)
const rebuiltRun = rebuilt(ActionRun)
const rebuiltImporter = rebuilt(Importer)
const rebuiltRunResult = (json: unknown) => {
  const { account, run } = json as { readonly account: unknown; readonly run: unknown }
  return { account: rebuiltAccount(account), run: rebuiltRun(run) }
}

interface Row {
  readonly request_hash: string
  readonly state: string
  readonly response: string | null
  readonly error: string | null
  readonly created_at: string
  readonly expires_at: string
}

/** `accounts` (an upstream) with each keyed change answered from this database's record when it is a repeat. */
export const withGatewayIdempotency = (accounts: AccountsService) =>
  Effect.map(SqlClient.SqlClient, (sql): AccountsService => {
    const keyed = <A>(invocation: Invocation, operation: string, request: unknown, rebuild: (json: unknown) => A, run: () => AccountsEffect<A>): AccountsEffect<A> => {
      const key = invocation.idempotencyKey
      if (key === undefined) return run()
      const bad = checkIdempotencyKey(key)
      if (bad) return Effect.fail(bad)
      // Per caller, as in the store: the principal whose credentials made the request.
      const principalId = `${invocation.principal.actor.kind}:${invocation.principal.actor.id}`
      const fingerprint = requestFingerprint(operation, request)
      const where = sql`principal_id = ${principalId} AND idempotency_key = ${key}`

      /** The key's record decides: a replayed answer, a refusal, or `undefined` (claimed: run it). */
      const claim = sql.withTransaction(
        Effect.gen(function* () {
          const at = yield* now
          const row = (yield* sql<Row>`SELECT request_hash, state, response, error, created_at, expires_at FROM gateway_idempotency WHERE ${where}`)[0]
          const stored = row && { fingerprint: row.request_hash, pending: row.state === "pending", createdAt: new Date(row.created_at), expiresAt: new Date(row.expires_at) }
          const decision = decideIdempotency(key, stored, fingerprint, at, STALE_CLAIM_MS)
          if (decision._tag === "Refuse") return yield* decision.error
          if (decision._tag === "Replay") {
            return row!.error !== null
              ? Either.left(yield* Schema.decodeUnknown(Schema.parseJson(AccountsError))(row!.error).pipe(Effect.orDie))
              : Either.right(rebuild(JSON.parse(row!.response!)))
          }
          // Expired records go with every claim (the expiry index keeps this cheap).
          yield* sql`DELETE FROM gateway_idempotency WHERE ${where} OR expires_at <= ${at.toISOString()}`
          yield* sql`INSERT INTO gateway_idempotency ${sql.insert({
            principal_id: principalId,
            idempotency_key: key,
            operation,
            request_hash: fingerprint,
            state: "pending",
            response: null,
            error: null,
            created_at: at.toISOString(),
            expires_at: new Date(at.getTime() + IDEMPOTENCY_TTL_MS).toISOString()
          })}`
          return undefined
        })
      ).pipe(
        // Two first requests at once: the other one holds the claim.
        Effect.catchTag("SqlError", (e) => Effect.fail(isUniqueViolation(e) ? keyInFlight(key) : fromSqlError(e)))
      )

      const finish = (fields: { readonly response: string | null; readonly error: string | null }) =>
        sql`UPDATE gateway_idempotency SET state = 'done', response = ${fields.response}, error = ${fields.error} WHERE ${where}`.pipe(
          // The answer stands; a repeat then waits out the claim (409) rather than running twice.
          Effect.catchAll((e) => Effect.logWarning("the gateway could not record an idempotency key's answer", e.message))
        )
      /** Not the operation's answer (unavailable, timed out, forbidden): the key is free for a retry. */
      const release = sql`DELETE FROM gateway_idempotency WHERE ${where} AND state = 'pending'`.pipe(
        Effect.catchAll((e) => Effect.logWarning("the gateway could not release an idempotency key", e.message))
      )

      return Effect.gen(function* () {
        const replayed = yield* claim
        if (replayed !== undefined) {
          if (invocation.onReplay) yield* invocation.onReplay
          return yield* replayed
        }
        return yield* run().pipe(
          // As in the store: the results encode to their own JSON (core's encoding test); a replay decodes it through the schema.
          Effect.tap((value) => finish({ response: JSON.stringify(value), error: null })),
          Effect.tapError((error) => (isRecordedRefusal(error) ? finish({ response: null, error: JSON.stringify(Schema.encodeSync(AccountsError)(error)) }) : release)),
          Effect.onInterrupt(() => release)
        )
      })
    }

    return {
      ...accounts,
      create: (input, inv) => keyed(inv, "create", { input }, rebuiltAccount, () => accounts.create(input, inv)),
      update: (ref, input, inv) => keyed(inv, "update", { ref, input }, rebuiltAccount, () => accounts.update(ref, input, inv)),
      redact: (ref, inv) => keyed(inv, "redact", { ref }, rebuiltAccount, () => accounts.redact(ref, inv)),
      addTag: (ref, tag, inv) => keyed(inv, "add-tag", { ref, tag }, rebuiltAccount, () => accounts.addTag(ref, tag, inv)),
      removeTag: (ref, tag, inv) => keyed(inv, "remove-tag", { ref, tag }, rebuiltAccount, () => accounts.removeTag(ref, tag, inv)),
      changeTags: (ref, changes, inv) => keyed(inv, "change-tags", { ref, changes }, rebuiltAccount, () => accounts.changeTags(ref, changes, inv)),
      setTags: (ref, tags, inv) => keyed(inv, "set-tags", { ref, tags }, rebuiltAccount, () => accounts.setTags(ref, tags, inv)),
      consolidate: (destination, sources, inv) => keyed(inv, "consolidate", { destination, sources }, rebuiltAccount, () => accounts.consolidate(destination, sources, inv)),
      addRelation: (ref, relation, inv) => keyed(inv, "add-relation", { ref, relation }, rebuiltAccount, () => accounts.addRelation(ref, relation, inv)),
      removeRelation: (ref, relation, inv) => keyed(inv, "remove-relation", { ref, relation }, rebuiltAccount, () => accounts.removeRelation(ref, relation, inv)),
      importAccounts: (input, inv) => keyed(inv, "import", { input }, rebuiltImporter, () => accounts.importAccounts(input, inv)),
      lifecycle: (ref, operation, inv) => keyed(inv, operation, { ref }, rebuiltRunResult, () => accounts.lifecycle(ref, operation, inv)),
      runAction: (ref, action, parameters, inv) => keyed(inv, "run-action", { ref, action, parameters }, rebuiltRunResult, () => accounts.runAction(ref, action, parameters, inv))
    }
  })
