/**
 * RetryPolicy: retries only retryable failures, with capped exponential backoff and full jitter,
 * honouring the server's hint when it asks for longer, bounded by attempts and elapsed time, and
 * drawing on a retry budget (AWS SDK v3's token bucket) so that during an outage retries stop
 * instead of multiplying the load. Delays go through Effect's Clock, so TestClock drives tests.
 */
import { Context, Duration, Effect, Layer, Random } from "effect"
import { isRetryable, retryHint, Timeout } from "./errors.js"

export interface RetryConfig {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number
  /** No retry is started that would end later than this after the first attempt began. */
  readonly maxElapsed: Duration.DurationInput
  readonly baseDelay: Duration.DurationInput
  readonly maxDelay: Duration.DurationInput
  /** Retry budget: tokens in a full bucket, the cost of a retry (a timeout's), and the refund per success. */
  readonly budgetCapacity: number
  readonly retryCost: number
  readonly timeoutRetryCost: number
  readonly successRefund: number
}

export const defaultRetryConfig: RetryConfig = {
  maxAttempts: 4,
  maxElapsed: "30 seconds",
  baseDelay: "100 millis",
  maxDelay: "20 seconds",
  budgetCapacity: 500,
  retryCost: 5,
  timeoutRetryCost: 10,
  successRefund: 1
}

/**
 * The pause before retry number `retry` (1 for the first retry): full jitter over the capped
 * exponential, or the server's hint if that is longer. `random` is in [0, 1).
 */
export const backoffDelay = (config: RetryConfig, retry: number, random: number, hint?: Duration.Duration): Duration.Duration => {
  const cap = Duration.toMillis(config.maxDelay)
  const exponential = Math.min(cap, Duration.toMillis(config.baseDelay) * 2 ** (retry - 1))
  const jittered = Duration.millis(Math.floor(random * exponential))
  return hint !== undefined ? Duration.max(jittered, hint) : jittered
}

export interface RetryBudget {
  readonly tokens: number
}

export interface RetryPolicyService {
  readonly config: RetryConfig
  /** Runs `effect`, retrying its retryable failures under the policy. The last failure is returned as is. */
  readonly retry: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Tokens left in the retry budget (for diagnostics and tests). */
  readonly budget: Effect.Effect<number>
}

export class RetryPolicy extends Context.Tag("@acct/core/RetryPolicy")<RetryPolicy, RetryPolicyService>() {
  static make = (overrides: Partial<RetryConfig> = {}): Effect.Effect<RetryPolicyService> =>
    Effect.sync(() => {
      const config = { ...defaultRetryConfig, ...overrides }
      const maxElapsedMillis = Duration.toMillis(config.maxElapsed)
      // A plain number, not a Ref: it is only read and written in synchronous steps of one
      // fiber at a time, and the success path (every read and change of the store) then costs
      // one step instead of a Ref update's several.
      let tokens = config.budgetCapacity

      const retry = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
        Effect.clockWith((clock) => {
          const startedAt = clock.unsafeCurrentTimeMillis()
          const succeeded = (a: A) =>
            Effect.sync(() => {
              tokens = Math.min(config.budgetCapacity, tokens + config.successRefund)
              return a
            })
          const attempt = (n: number): Effect.Effect<A, E, R> =>
            Effect.matchEffect(effect, {
              onSuccess: succeeded,
              onFailure: (error) => {
                if (!isRetryable(error) || n >= config.maxAttempts) return Effect.fail(error)
                return Effect.flatMap(Random.next, (random) => {
                  const delay = backoffDelay(config, n, random, retryHint(error))
                  if (clock.unsafeCurrentTimeMillis() - startedAt + Duration.toMillis(delay) > maxElapsedMillis) return Effect.fail(error)
                  const cost = error instanceof Timeout ? config.timeoutRetryCost : config.retryCost
                  if (tokens < cost) return Effect.fail(error)
                  tokens -= cost
                  return Effect.zipRight(Effect.sleep(delay), attempt(n + 1))
                })
              }
            })
          return attempt(1)
        })

      return { config, retry, budget: Effect.sync(() => tokens) }
    })

  static layer = (overrides: Partial<RetryConfig> = {}) => Layer.effect(RetryPolicy, RetryPolicy.make(overrides))
  static Default = RetryPolicy.layer()
  /** Never retries; for callers that retry at a higher level. */
  static None = RetryPolicy.layer({ maxAttempts: 1 })
}
