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
import { Context, Duration, Effect, Layer, Option } from "effect"
import { errorResponse } from "./error-body.js"
import { credentialOf, pathOf, requestContextOf, type RequestContext } from "./request-context.js"

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

/** What spending one request of a caller's budget gave. */
export interface Verdict {
  /** Undefined when the counters were unavailable. */
  readonly state: RateLimitState | undefined
  /** Set when the budget is spent: seconds until it refills. */
  readonly retryAfter?: number
}

/** The rate-limit counters (in memory, or in the database for replicas): @effect/experimental's store. */
export type CounterStore = Context.Tag.Service<typeof RateLimiter.RateLimiterStore>

const WINDOW_MS = 60_000

/**
 * Spends one request of `caller`'s budget: a fixed window of a minute, counted on the store as
 * @effect/experimental's `RateLimiter.consume({ algorithm: "fixed-window", onExceeded: "fail" })`
 * counts, without its refusal — a schema-checked `RateLimitExceeded` with a stack trace for every
 * refused request, about 15× the work of an allowed one, on exactly the requests a flood sends.
 * Exceeded: the state to report and the seconds to wait. Counters unavailable: serve without
 * limiting rather than refuse everyone.
 */
export const spend = (store: CounterStore, caller: string, options: RateLimitOptions): Effect.Effect<Verdict> =>
  Effect.matchEffect(store.fixedWindow({ key: `acct:${caller}`, tokens: 1, refillRate: Duration.millis(WINDOW_MS / options.perMinute), limit: options.perMinute }), {
    onSuccess: ([count, ttlMillis]) => Effect.succeed(verdictOf(count, ttlMillis, options)),
    onFailure: () => Effect.as(Effect.logWarning("rate-limit counters unavailable; request not limited"), { state: undefined } as Verdict)
  })

const verdictOf = (count: number, ttlMillis: number, options: RateLimitOptions): Verdict => {
  const seconds = Math.ceil(ttlMillis / 1000)
  if (count > options.perMinute) {
    const retryAfter = Math.max(1, seconds)
    return { state: { limit: options.perMinute, remaining: 0, resetSeconds: retryAfter }, retryAfter }
  }
  return { state: { limit: options.perMinute, remaining: options.perMinute - count, resetSeconds: Math.max(0, seconds) } }
}

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
const callerOf = (request: HttpServerRequest.HttpServerRequest, context: RequestContext | undefined, known: KnownKeys["Type"]) => {
  const credential = credentialOf(request, context)
  const keyId = credential === undefined ? undefined : known.idOf(credential.hash)
  return keyId !== undefined ? `key:${keyId}` : `ip:${Option.getOrElse(request.remoteAddress, () => "unknown")}`
}

/**
 * The middleware. Written as one `contextWithEffect` rather than `Effect.gen`: it runs on every
 * request, and each step the runtime interprets costs there (see edge.ts).
 */
export const rateLimit =
  (options: RateLimitOptions) =>
  <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R | RateLimiter.RateLimiterStore | KnownKeys> =>
    Effect.contextWithEffect((services: Context.Context<HttpServerRequest.HttpServerRequest | RateLimiter.RateLimiterStore | KnownKeys>) => {
      const request = Context.get(services, HttpServerRequest.HttpServerRequest)
      if (UNMETERED.has(pathOf(request.url))) return app
      const context = requestContextOf(request)
      const caller = callerOf(request, context, Context.get(services, KnownKeys))
      return Effect.flatMap(spend(Context.get(services, RateLimiter.RateLimiterStore), caller, options), (verdict) => {
        if (context) context.limit = verdict.state
        return verdict.retryAfter === undefined
          ? app
          : Effect.succeed(tooManyRequests(request.url, context?.id ?? "", caller.startsWith("key:") ? "key" : "address", options, verdict.retryAfter))
      })
    })

/** The caller's RateLimit-* headers (none when it was not counted). */
export const rateLimitHeaders = (limit: RequestContext["limit"]): Record<string, string> =>
  limit === undefined
    ? {}
    : { "ratelimit-limit": String(limit.limit), "ratelimit-remaining": String(limit.remaining), "ratelimit-reset": String(limit.resetSeconds) }

/** How many callers' counters the in-memory store keeps at most. */
const MEMORY_COUNTERS_MAX = 100_000

/**
 * Fixed-window counters, as @effect/experimental's `layerStoreMemory` keeps them (a window whose
 * expiry each consumed token extends), except that they expire and are bounded: the library's
 * store keeps every key it ever saw. When the map doubles, expired counters are swept (so the
 * work is amortised constant per request); at the cap the oldest are dropped.
 */
export class ExpiringCounters {
  private readonly counters = new Map<string, { count: number; expiresAt: number }>()
  private sweepAt = 1024
  constructor(private readonly max: number) {}

  get size() {
    return this.counters.size
  }

  /** Spends `tokens` of `key`'s budget: the count after it (over `limit`: not spent) and ms to expiry. */
  hit(key: string, tokens: number, refillMillis: number, limit: number | undefined, now: number): readonly [number, number] {
    let counter = this.counters.get(key)
    if (!counter || counter.expiresAt <= now) {
      if (this.counters.size >= this.sweepAt) this.sweep(now)
      counter = { count: 0, expiresAt: now }
      this.counters.delete(key)
      this.counters.set(key, counter)
    }
    if (limit && counter.count + tokens > limit) return [counter.count + tokens, counter.expiresAt - now]
    counter.count += tokens
    counter.expiresAt += refillMillis * tokens
    return [counter.count, counter.expiresAt - now]
  }

  private sweep(now: number) {
    for (const [key, counter] of this.counters) if (counter.expiresAt <= now) this.counters.delete(key)
    // Still full: drop the oldest windows (insertion order), which free up soonest anyway.
    for (const key of this.counters.keys()) {
      if (this.counters.size < this.max) break
      this.counters.delete(key)
    }
    this.sweepAt = Math.min(this.max, Math.max(1024, this.counters.size * 2))
  }
}

/** The counters of one server on SQLite. */
export class RateLimitCounters extends Context.Tag("@acct/server/RateLimitCounters")<RateLimitCounters, ExpiringCounters>() {
  static layer = Layer.sync(RateLimitCounters, () => new ExpiringCounters(MEMORY_COUNTERS_MAX))
}

/** The RateLimiter's store for one server on SQLite: its RateLimitCounters. */
export const boundedMemoryStore = Layer.effect(
  RateLimiter.RateLimiterStore,
  Effect.map(RateLimitCounters, (counters) =>
    RateLimiter.RateLimiterStore.of({
    fixedWindow: (options) =>
        Effect.clockWith((clock) => Effect.sync(() => counters.hit(options.key, options.tokens, Duration.toMillis(options.refillRate), options.limit, clock.unsafeCurrentTimeMillis()))),
      tokenBucket: () => Effect.die("the server's rate-limit store implements the fixed window only")
    })
  )
)
