/**
 * The client-side limiter for upstream APIs. The upstream says in every answer how many requests
 * its window allows (`RateLimit-Limit`), how many are left (`RateLimit-Remaining`) and when the
 * window resets (`RateLimit-Reset`, seconds). Rather than run into 429s and back off, requests
 * are spaced at the rate the upstream allows, so a bulk run slows down before it is throttled:
 * one request every window/limit, all windows alike, plus a full stop until the reset whenever
 * the upstream says nothing is left.
 */
import { Clock, Effect, Ref } from "effect"

export interface PacerState {
  /** Earliest start of the next request (ms since the epoch). */
  readonly nextAt: number
  /** Spacing between requests, once the upstream has told us its limit (ms). */
  readonly intervalMs: number
  /** The longest reset seen: the window's length (ms). */
  readonly windowMs: number
}

export const initialPacer: PacerState = { nextAt: 0, intervalMs: 0, windowMs: 0 }

/** A little under the upstream's rate, so clock skew between the two sides does not cost a 429. */
const SAFETY = 1.03

export interface RateLimitHeaders {
  readonly limit?: number | undefined
  readonly remaining?: number | undefined
  readonly resetSeconds?: number | undefined
}

const numberOf = (text: string | undefined) => {
  if (text === undefined) return undefined
  const value = Number(text)
  return Number.isFinite(value) && value >= 0 ? value : undefined
}

export const readRateLimit = (headers: Readonly<Record<string, string | undefined>>): RateLimitHeaders => ({
  limit: numberOf(headers["ratelimit-limit"]),
  remaining: numberOf(headers["ratelimit-remaining"]),
  resetSeconds: numberOf(headers["ratelimit-reset"])
})

/** Where the next request may start, and the state after booking it. */
export const book = (state: PacerState, now: number): readonly [startAt: number, PacerState] => {
  const startAt = Math.max(now, state.nextAt)
  return [startAt, { ...state, nextAt: startAt + state.intervalMs }]
}

/** Learns from an answer's headers (or a 429's wait). */
export const observe = (state: PacerState, now: number, seen: RateLimitHeaders, pauseSeconds?: number): PacerState => {
  let next = state
  if (seen.resetSeconds !== undefined && seen.limit !== undefined && seen.limit > 0) {
    const windowMs = Math.max(state.windowMs, Math.max(1, seen.resetSeconds) * 1000)
    next = { ...next, windowMs, intervalMs: (windowMs / seen.limit) * SAFETY }
  }
  if (seen.remaining === 0 && seen.resetSeconds !== undefined) next = { ...next, nextAt: Math.max(next.nextAt, now + seen.resetSeconds * 1000) }
  if (pauseSeconds !== undefined) next = { ...next, nextAt: Math.max(next.nextAt, now + pauseSeconds * 1000) }
  return next
}

export const makePacer = Effect.map(Ref.make(initialPacer), (state) => ({
  /** Waits for this request's turn. */
  turn: Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.flatMap(
      Ref.modify(state, (s) => book(s, now)),
      (startAt) => (startAt > now ? Effect.sleep(startAt - now) : Effect.void)
    )
  ),
  learn: (seen: RateLimitHeaders, pauseSeconds?: number) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(state, (s) => observe(s, now, seen, pauseSeconds)))
}))
export type Pacer = Effect.Effect.Success<typeof makePacer>
