/**
 * An acct server's error responses, read back into typed errors: the status says which, the
 * body (Persona or problem format) says why, the headers give the retry hint and request id.
 */
import { type AccountsError, Conflict, Forbidden, InvalidRequest, InvalidState, NotFound, RateLimited, Timeout, Unauthorized, Unavailable, Unprocessable } from "@acct/core"
import type { Headers } from "@effect/platform"
import { recordFacts } from "./call-facts.js"

const describe = (body: unknown): { title: string; detail: string } => {
  const b = body as { errors?: Array<{ title?: string; details?: string }>; title?: string; detail?: string } | undefined
  const first = b?.errors?.[0]
  const title = first?.title ?? b?.title ?? "error"
  return { title, detail: first?.details ?? b?.detail ?? title }
}

/** Seconds to wait, from Retry-After (seconds or an HTTP date) or RateLimit-Reset. */
export const retryAfterSeconds = (headers: Headers.Headers, now = Date.now()): number | undefined => {
  const retryAfter = headers["retry-after"]
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter)
    if (Number.isFinite(seconds)) return Math.max(0, seconds)
    const at = Date.parse(retryAfter)
    if (!Number.isNaN(at)) return Math.max(0, (at - now) / 1000)
  }
  const reset = Number(headers["ratelimit-reset"])
  return Number.isFinite(reset) && headers["ratelimit-remaining"] === "0" ? Math.max(0, reset) : undefined
}

export const fromResponse = (status: number, body: unknown, headers: Headers.Headers): AccountsError =>
  recordFacts(readError(status, body, headers), { status, requestId: headers["request-id"] })

const readError = (status: number, body: unknown, headers: Headers.Headers): AccountsError => {
  const { title, detail } = describe(body)
  const requestId = headers["request-id"]
  const message = requestId ? `${detail} (request ${requestId})` : detail
  const hint = retryAfterSeconds(headers)
  switch (status) {
    case 400:
      return new InvalidRequest({ message })
    case 401:
      return new Unauthorized({ message })
    case 403:
      return new Forbidden({ message, missingScope: /missing scope (\S+)/.exec(detail)?.[1] ?? "" })
    case 404:
      return new NotFound({ entity: "resource", ref: "", message })
    case 409:
      // A duplicate still in flight on the server: try again shortly, like a 503.
      if (/still in flight/.test(detail)) return new Unavailable({ message, retryAfterSeconds: hint ?? 1 })
      return title === "Invalid state" || /^cannot (enable|disable|activate|deactivate)/.test(detail)
        ? new InvalidState({ message, currentStatus: "" })
        : new Conflict({ message })
    case 422:
      return new Unprocessable({ message })
    case 429:
      return new RateLimited({ message, ...(hint !== undefined ? { retryAfterSeconds: hint } : {}) })
    case 504:
      return new Timeout({ message })
    default:
      return status >= 500
        ? new Unavailable({ message, ...(hint !== undefined ? { retryAfterSeconds: hint } : {}) })
        : new InvalidRequest({ message: `unexpected ${status}: ${message}` })
  }
}
