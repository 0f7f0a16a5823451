/**
 * The RateLimiter's store in the database, so every replica counts against the same budget.
 * Same semantics as @effect/experimental's memory store (a fixed window whose expiry each
 * consumed token extends), as one atomic upsert; an attempt over the limit is not counted.
 * Expiries are fractional milliseconds: a large limit refills in fractions of a millisecond.
 * Expired rows are deleted at most once a minute per process, so the table holds the callers of
 * the last window, not every caller ever seen.
 */
import { RateLimiter } from "@effect/experimental"
import { SqlClient } from "@effect/sql"
import { Clock, Duration, Effect, Layer } from "effect"

export const SqlRateLimiterStore = Layer.effect(
  RateLimiter.RateLimiterStore,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const failed = (cause: unknown) => new RateLimiter.RateLimitStoreError({ message: "rate-limit counters are unavailable", cause })
    let sweptAt = Number.NEGATIVE_INFINITY
    const sweep = (now: number) =>
      now - sweptAt < 60_000
        ? Effect.void
        : Effect.zipRight(
            Effect.sync(() => void (sweptAt = now)),
            sql`DELETE FROM rate_limits WHERE expires_at <= CAST(${now} AS DOUBLE PRECISION)`.pipe(Effect.ignore)
          )
    return RateLimiter.RateLimiterStore.of({
      fixedWindow: ({ key, tokens, refillRate, limit }) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          yield* sweep(now)
          const step = Duration.toMillis(refillRate) * tokens
          const cap = limit ?? Number.MAX_SAFE_INTEGER
          const rows = yield* sql<{ count: number | string; expires_at: number | string; rejected: number | string }>`
            INSERT INTO rate_limits (limit_key, count, expires_at, rejected)
            VALUES (${key}, ${tokens}, CAST(${now + step} AS DOUBLE PRECISION), 0)
            ON CONFLICT (limit_key) DO UPDATE SET
              count = CASE
                WHEN rate_limits.expires_at <= CAST(${now} AS DOUBLE PRECISION) THEN ${tokens}
                WHEN rate_limits.count + ${tokens} > ${cap} THEN rate_limits.count
                ELSE rate_limits.count + ${tokens} END,
              rejected = CASE
                WHEN rate_limits.expires_at <= CAST(${now} AS DOUBLE PRECISION) THEN 0
                WHEN rate_limits.count + ${tokens} > ${cap} THEN 1
                ELSE 0 END,
              expires_at = CASE
                WHEN rate_limits.expires_at <= CAST(${now} AS DOUBLE PRECISION) THEN CAST(${now + step} AS DOUBLE PRECISION)
                WHEN rate_limits.count + ${tokens} > ${cap} THEN rate_limits.expires_at
                ELSE rate_limits.expires_at + CAST(${step} AS DOUBLE PRECISION) END
            RETURNING count, expires_at, rejected`.pipe(Effect.mapError(failed))
          const row = rows[0]!
          const count = Number(row.count)
          const ttl = Number(row.expires_at) - now
          // Over the limit: report the attempted count (above the limit), as the memory store does.
          return Number(row.rejected) === 1 ? ([count + tokens, ttl] as const) : ([count, ttl] as const)
        }),
      tokenBucket: () => Effect.fail(failed("the SQL rate-limit store implements the fixed window only"))
    })
  })
)
