/**
 * Per-request facts the access log needs from deeper layers (who the caller turned out to be).
 * Set by the request-id middleware for the whole request fiber; filled in by the rate limit
 * and authentication.
 */
import { CurrentPrincipal, decodeReason, REASON_HEADER } from "@acct/api"
import { type Invocation, type Principal, requireAllowed } from "@acct/core"
import { HttpServerRequest } from "@effect/platform"
import { Effect, FiberRef } from "effect"

export interface RequestContext {
  readonly id: string
  principal: string | undefined
  /** The caller's rate-limit state once counted, for the RateLimit-* headers. */
  limit: { readonly limit: number; readonly remaining: number; readonly resetSeconds: number } | undefined
}

export const currentRequest = FiberRef.unsafeMake<RequestContext | undefined>(undefined)

/**
 * The store's view of an HTTP request: who, through which channel, the request id for the
 * audit trail, and the Idempotency-Key. The store records the key in the same transaction as
 * the change, so even if a server dies after committing and before answering, a retry of the
 * key (on any replica) replays the result instead of repeating the change.
 */
export const httpInvocation = (principal: Principal) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const context = yield* FiberRef.get(currentRequest)
    return {
      principal,
      channel: "http",
      requestId: context?.id,
      idempotencyKey: request.headers["idempotency-key"],
      reason: decodeReason(request.headers[REASON_HEADER])
    } satisfies Invocation
  })

/** Reads carry no principal in the Accounts port: both surfaces ask core's policy here first. */
export const requireRead = Effect.flatMap(CurrentPrincipal, (principal) => requireAllowed(principal, "get"))
