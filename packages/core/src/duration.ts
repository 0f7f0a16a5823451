/** Durations people write in settings: a number and a unit (`90d`, `12h`, `30m`, `5s`, `250ms`). */
import { Duration, Either } from "effect"

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * The duration `text` says, or a sentence naming the setting (and the item of a list, when the
 * caller's `setting` says which), what was expected — with an example fit for the setting — and
 * what came.
 */
export const parseDuration = (text: string, setting: string, example = "90d or 12h"): Either.Either<Duration.Duration, string> => {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim())
  return match
    ? Either.right(Duration.millis(Math.round(Number(match[1]) * UNITS[match[2]!]!)))
    : Either.left(`${setting}: expected a number and a unit (ms, s, m, h, d), e.g. ${example}; got ${JSON.stringify(text.slice(0, 60))}`)
}
