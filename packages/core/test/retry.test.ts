import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Random, Ref, TestClock } from "effect"
import { backoffDelay, defaultRetryConfig, InvalidRequest, RateLimited, RetryPolicy, Unavailable } from "../src/index.js"

/** An effect that fails `failures` times with `error`, then succeeds; counts its attempts. */
const flaky = <E>(failures: number, error: () => E) =>
  Effect.gen(function* () {
    const attempts = yield* Ref.make(0)
    const effect = Ref.updateAndGet(attempts, (n) => n + 1).pipe(
      Effect.flatMap((n) => (n <= failures ? Effect.fail(error()) : Effect.succeed(n)))
    )
    return { effect, attempts }
  })

// Random always 0.999…: full jitter then waits (almost) the whole exponential step.
const nearOne = Random.fixed([0.999])

describe("backoffDelay", () => {
  it("grows exponentially under full jitter, capped, and honours longer hints", () => {
    const c = { ...defaultRetryConfig, baseDelay: "100 millis", maxDelay: "1 second" } as const
    expect(Duration.toMillis(backoffDelay(c, 1, 0.5))).toBe(50)
    expect(Duration.toMillis(backoffDelay(c, 3, 0.5))).toBe(200)
    expect(Duration.toMillis(backoffDelay(c, 10, 0.999))).toBe(999)
    expect(Duration.toMillis(backoffDelay(c, 1, 0.5, Duration.seconds(3)))).toBe(3000)
  })
})

describe("RetryPolicy", () => {
  it.effect("retries a retryable failure with growing delays, then succeeds", () =>
    Effect.gen(function* () {
      const policy = yield* RetryPolicy.make({ maxAttempts: 4, baseDelay: "100 millis" })
      const { effect, attempts } = yield* flaky(2, () => new Unavailable({ message: "down" }))
      const fiber = yield* Effect.fork(Effect.withRandom(policy.retry(effect), nearOne))
      yield* TestClock.adjust("98 millis")
      expect(yield* Ref.get(attempts)).toBe(1)
      yield* TestClock.adjust("1 millis") // first retry after floor(0.999 × 100 ms)
      expect(yield* Ref.get(attempts)).toBe(2)
      yield* TestClock.adjust("198 millis")
      expect(yield* Ref.get(attempts)).toBe(2) // second retry after floor(0.999 × 200 ms)
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.join(fiber)).toBe(3)
    })
  )

  it.effect("never retries a non-retryable error", () =>
    Effect.gen(function* () {
      const policy = yield* RetryPolicy.make()
      const { effect, attempts } = yield* flaky(5, () => new InvalidRequest({ message: "bad" }))
      const error = yield* Effect.flip(policy.retry(effect))
      expect(error._tag).toBe("InvalidRequest")
      expect(yield* Ref.get(attempts)).toBe(1)
    })
  )

  it.effect("waits at least the server's Retry-After hint", () =>
    Effect.gen(function* () {
      const policy = yield* RetryPolicy.make({ maxAttempts: 2 })
      const { effect, attempts } = yield* flaky(1, () => new RateLimited({ message: "slow down", retryAfterSeconds: 7 }))
      const fiber = yield* Effect.fork(policy.retry(effect))
      yield* TestClock.adjust("6999 millis")
      expect(yield* Ref.get(attempts)).toBe(1)
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.join(fiber)).toBe(2)
    })
  )

  it.effect("stops at maxAttempts and returns the last error", () =>
    Effect.gen(function* () {
      const policy = yield* RetryPolicy.make({ maxAttempts: 3 })
      const { effect, attempts } = yield* flaky(10, () => new Unavailable({ message: "down" }))
      const fiber = yield* Effect.fork(Effect.flip(policy.retry(effect)))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("Unavailable")
      expect(yield* Ref.get(attempts)).toBe(3)
    })
  )

  it.effect("gives up when a hint would exceed the elapsed-time limit", () =>
    Effect.gen(function* () {
      const policy = yield* RetryPolicy.make({ maxAttempts: 5, maxElapsed: "10 seconds" })
      const { effect, attempts } = yield* flaky(1, () => new RateLimited({ message: "later", retryAfterSeconds: 60 }))
      const error = yield* Effect.flip(policy.retry(effect))
      expect(error._tag).toBe("RateLimited")
      expect(yield* Ref.get(attempts)).toBe(1)
    })
  )

  it.effect("stops retrying when the retry budget is spent, and refills on success", () =>
    Effect.gen(function* () {
      // Capacity for exactly two retries.
      const policy = yield* RetryPolicy.make({ maxAttempts: 10, budgetCapacity: 10, retryCost: 5, successRefund: 1 })
      const { effect, attempts } = yield* flaky(100, () => new Unavailable({ message: "outage" }))
      const fiber = yield* Effect.fork(Effect.flip(policy.retry(effect)))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(attempts)).toBe(3) // first try + 2 budgeted retries
      expect(yield* policy.budget).toBe(0)
      // During the outage further calls fail at once: no retry multiplies the load.
      const second = yield* flaky(100, () => new Unavailable({ message: "outage" }))
      yield* Effect.flip(policy.retry(second.effect))
      expect(yield* Ref.get(second.attempts)).toBe(1)
      yield* policy.retry(Effect.succeed(1))
      expect(yield* policy.budget).toBe(1)
    })
  )
})
