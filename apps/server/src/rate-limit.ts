/**
 * Rate limits, checked before the key is: an authenticated caller is counted by its key id,
 * everyone else (no key, a bogus key, a key this process has not seen succeed yet) by the
 * address it comes from. So five spellings of one key share one budget, a stream of made-up
 * keys from one address is limited like one caller (and costs no key lookup once over budget),
 * and the counters are bounded by the callers that exist, not by what they send.
 *
 * A key's first request in a process is counted against its address, then, once the key is
 * verified, against the key as well (auth.ts), so a key's budget is exact on every replica.
 */
import { RateLimiter } from "@effect/experimental"
import { type HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Context, Duration, Effect, FiberRef, Layer, Option } from "effect"
import { bearerToken } from "./bearer.js"
import { errorResponse } from "./error-body.js"
import { sha256 } from "./hash.js"
import { currentRequest, type RequestContext } from "./request-context.js"

/** Endpoints that load balancers and people's browsers poll: never rate limited. */
const UNMETERED = new Set(["/healthz", "/readyz", "/openapi.json", "/docs"])

/** How many verified keys a process remembers (the oldest is forgotten first). */
const KNOWN_KEYS_MAX = 10_000

/** Which key ids the bearer tokens this process has verified belong to (by the token's hash). */
export class KnownKeys extends Context.Tag("@acct/server/KnownKeys")<
  KnownKeys,
  { readonly idOf: (tokenHash: string) => string | undefined; readonly remember: (tokenHash: string, keyId: string) => void }
>() {
  static layer = Layer.sync(KnownKeys, () => {
    const ids = new Map<string, string>()
    return {
      idOf: (tokenHash) => ids.get(tokenHash),
      remember: (tokenHash, keyId) => {
        if (ids.has(tokenHash)) return
        if (ids.size >= KNOWN_KEYS_MAX) ids.delete(ids.keys().next().value!)
        ids.set(tokenHash, keyId)
      }
    }
  })
}

export type RateLimitState = NonNullable<RequestContext["limit"]>

export interface RateLimitOptions {
  /** Requests per minute per caller. */
  readonly perMinute: number
}

/**
 * Spends one request of `caller`'s budget. Exceeded: the state to report and the seconds to wait.
 * Counters unavailable: serve without limiting rather than refuse everyone.
 */
export interface Verdict {
  /** Undefined when the counters were unavailable. */
  readonly state: RateLimitState | undefined
  /** Set when the budget is spent: seconds until it refills. */
  readonly retryAfter?: number
}

export const spend = (limiter: RateLimiter.RateLimiter, caller: string, options: RateLimitOptions): Effect.Effect<Verdict> =>
  limiter.consume({ key: `acct:${caller}`, limit: options.perMinute, window: "1 minute", algorithm: "fixed-window", onExceeded: "fail" }).pipe(
      Effect.map((result): Verdict => ({
        state: { limit: result.limit, remaining: result.remaining, resetSeconds: Math.max(0, Math.ceil(Duration.toSeconds(result.resetAfter))) }
      })),
      Effect.catchAll((error) => {
        if (error.reason === "Exceeded") {
          const retryAfter = Math.max(1, Math.ceil(Duration.toSeconds(error.retryAfter)))
          return Effect.succeed<Verdict>({ state: { limit: options.perMinute, remaining: 0, resetSeconds: retryAfter }, retryAfter })
        }
        return Effect.as(Effect.logWarning("rate-limit counters unavailable; request not limited"), { state: undefined } as Verdict)
      })
    )

/** What a 429 says: who is limited, to how much, and when to retry. */
export const limitedDetail = (caller: "key" | "address", options: RateLimitOptions, retryAfter: number) =>
  `${caller === "key" ? "this API key" : "requests without a verified API key from one address"} may make ${options.perMinute} requests per minute; retry in ${retryAfter} s`

const tooManyRequests = (url: string, requestId: string, caller: "key" | "address", options: RateLimitOptions, retryAfter: number) =>
  HttpServerResponse.setHeader(
    errorResponse(url, requestId, 429, "Rate limit exceeded", limitedDetail(caller, options, retryAfter)),
    "retry-after",
    String(retryAfter)
  )

/** The identity a request is counted as, before its key is checked. */
const callerOf = (request: HttpServerRequest.HttpServerRequest, known: KnownKeys["Type"]) => {
  const token = bearerToken(request.headers.authorization)
  const keyId = token === undefined ? undefined : known.idOf(sha256(token))
  return keyId !== undefined ? `key:${keyId}` : `ip:${Option.getOrElse(request.remoteAddress, () => "unknown")}`
}

export const rateLimit =
  (options: RateLimitOptions) =>
  <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R | RateLimiter.RateLimiter | KnownKeys> =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      if (UNMETERED.has(request.url.split("?")[0]!)) return yield* app
      const context = yield* FiberRef.get(currentRequest)
      const caller = callerOf(request, yield* KnownKeys)
      const verdict = yield* spend(yield* RateLimiter.RateLimiter, caller, options)
      if (context) context.limit = verdict.state
      if (verdict.retryAfter !== undefined) {
        return tooManyRequests(request.url, context?.id ?? "", caller.startsWith("key:") ? "key" : "address", options, verdict.retryAfter)
      }
      return yield* app
    })

/** Adds the caller's RateLimit-* headers (when it was counted) to a response. */
export const withRateLimitHeaders = (response: HttpServerResponse.HttpServerResponse, limit: RequestContext["limit"]) =>
  limit === undefined
    ? response
    : HttpServerResponse.setHeaders(response, {
        "ratelimit-limit": String(limit.limit),
        "ratelimit-remaining": String(limit.remaining),
        "ratelimit-reset": String(limit.resetSeconds)
      })

/** Counters above this many are swept of expired ones; past the cap the oldest are dropped. */
const MEMORY_COUNTERS_MAX = 100_000

/**
 * The RateLimiter's in-memory store (one server on SQLite) with the fixed-window semantics of
 * @effect/experimental's `layerStoreMemory` (a window whose expiry each consumed token
 * extends), except that counters expire: the library's store keeps every key it ever saw.
 */
export const boundedMemoryStore = Layer.sync(RateLimiter.RateLimiterStore, () => {
  const counters = new Map<string, { count: number; expiresAt: number }>()
  let sweepAt = 1024
  const sweep = (now: number) => {
    for (const [key, counter] of counters) if (counter.expiresAt <= now) counters.delete(key)
    for (const key of counters.keys()) {
      if (counters.size < MEMORY_COUNTERS_MAX) break
      counters.delete(key)
    }
    sweepAt = Math.min(MEMORY_COUNTERS_MAX, Math.max(1024, counters.size * 2))
  }
  return RateLimiter.RateLimiterStore.of({
    fixedWindow: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          const now = clock.unsafeCurrentTimeMillis()
          let counter = counters.get(options.key)
          if (!counter || counter.expiresAt <= now) {
            if (counters.size >= sweepAt) sweep(now)
            counter = { count: 0, expiresAt: now }
            counters.delete(options.key)
            counters.set(options.key, counter)
          }
          if (options.limit && counter.count + options.tokens > options.limit) return [counter.count + options.tokens, counter.expiresAt - now] as const
          counter.count += options.tokens
          counter.expiresAt += Duration.toMillis(options.refillRate) * options.tokens
          return [counter.count, counter.expiresAt - now] as const
        })
      ),
    tokenBucket: () => Effect.die("the server's rate-limit store implements the fixed window only")
  })
})
