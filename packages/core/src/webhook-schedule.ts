/**
 * When a webhook delivery is attempted: a schedule of delays, one per attempt (the first is
 * usually 0 s, "at once"), from ACCT_WEBHOOK_RETRY_SCHEDULE. Each delay is jittered by ±10 % so
 * endpoints that failed together are not all retried in the same instant, and stretched to a
 * receiver's Retry-After when that asks for longer.
 */
import { Duration, Either } from "effect"
import { parseDuration } from "./duration.js"

export const DEFAULT_RETRY_SCHEDULE = "0s,5s,5m,30m,2h,5h,10h,14h,20h,24h"

/** `"0s,5s,5m"` → the delays, or a sentence naming the variable and the entry that is not a duration. */
export const parseRetrySchedule = (text: string, from = "ACCT_WEBHOOK_RETRY_SCHEDULE"): Either.Either<ReadonlyArray<Duration.Duration>, string> => {
  const entries = text.split(",")
  if (entries.length > 50) return Either.left(`${from}: at most 50 attempts, got ${entries.length}`)
  return Either.all(entries.map((entry, index) => parseDuration(entry, `${from}: entry ${index + 1}`, "0s,5s,5m,30m")))
}

/**
 * The wait before the next attempt once `attemptsMade` attempts failed, or undefined when the
 * schedule is spent. `random` is in [0, 1); `hint` is the receiver's Retry-After.
 */
export const nextAttemptDelay = (schedule: ReadonlyArray<Duration.Duration>, attemptsMade: number, random: number, hint?: Duration.Duration): Duration.Duration | undefined => {
  const planned = schedule[attemptsMade]
  if (planned === undefined) return undefined
  const jittered = Duration.millis(Math.round(Duration.toMillis(planned) * (0.9 + 0.2 * random)))
  return hint !== undefined ? Duration.max(jittered, hint) : jittered
}

/** `Retry-After` (seconds or an HTTP date, RFC 9110) as a duration from `now`; undefined if unreadable. */
export const parseRetryAfter = (value: string | undefined, now: number): Duration.Duration | undefined => {
  if (value === undefined || value.trim() === "") return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Duration.seconds(Math.min(Number(trimmed), 86_400))
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Duration.millis(Math.min(Math.max(0, at - now), 86_400_000))
}

/** An endpoint whose every attempt failed for this long is disabled (and an event says so). */
export const DISABLE_FAILING_AFTER = Duration.days(5)

/** What an attempt's answer means for its delivery. */
export type AttemptVerdict =
  | { readonly _tag: "Delivered" }
  | { readonly _tag: "Retry"; readonly after: Duration.Duration }
  | { readonly _tag: "GiveUp"; readonly why: string }
  /** 410 Gone: the receiver asks not to be sent anything more; the endpoint is disabled. */
  | { readonly _tag: "Gone" }

/**
 * Any 2xx delivers; 410 disables; anything else (3xx included: redirects are not followed, no
 * answer at all) is retried on the schedule, 429 and 503 no sooner than their Retry-After.
 * `attemptsMade` counts the attempt just made.
 */
export const attemptVerdict = (
  answer: { readonly status: number; readonly retryAfter?: Duration.Duration | undefined } | undefined,
  attemptsMade: number,
  schedule: ReadonlyArray<Duration.Duration>,
  random: number
): AttemptVerdict => {
  if (answer !== undefined && answer.status >= 200 && answer.status < 300) return { _tag: "Delivered" }
  if (answer?.status === 410) return { _tag: "Gone" }
  const hint = answer !== undefined && (answer.status === 429 || answer.status === 503) ? answer.retryAfter : undefined
  const after = nextAttemptDelay(schedule, attemptsMade, random, hint)
  return after === undefined ? { _tag: "GiveUp", why: `no attempt left: ${attemptsMade} made, as the retry schedule allows` } : { _tag: "Retry", after }
}
