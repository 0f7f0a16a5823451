/**
 * Per-request facts the access log needs from deeper layers (who the caller turned out to be).
 * Made by the request-id middleware and kept beside the request; filled in by the rate limit
 * and authentication.
 */
import { CurrentPrincipal, decodeOnBehalfOf, decodeReason, ON_BEHALF_OF_HEADER, REASON_HEADER } from "@acct/api"
import { InvalidRequest, type Invocation, isIdempotencyKey, type Principal, requireAllowed } from "@acct/core"
import { HttpServerRequest } from "@effect/platform"
import { Effect } from "effect"
import { type Credential, credentialIn } from "./bearer.js"

export interface RequestContext {
  readonly id: string
  principal: string | undefined
  /** The caller's rate-limit state once counted, for the RateLimit-* headers. */
  limit: { readonly limit: number; readonly remaining: number; readonly resetSeconds: number } | undefined
  /** The answer is the Idempotency-Key's recorded one (`Idempotent-Replayed: true`). */
  replayed: boolean
  /** The bearer credential once read (`credentialOf`): null when the request carries none. */
  credential?: Credential | null
}

/**
 * Each request's context, keyed by the request's source (Node's IncomingMessage): the same for
 * the request a router or a prefix rewrite derives from it. Not a FiberRef: setting one copies
 * the map of all the fiber's FiberRefs, and `Effect.locally` does so twice — on every request.
 */
const contexts = new WeakMap<object, RequestContext>()

export const attachRequestContext = (request: HttpServerRequest.HttpServerRequest, context: RequestContext): void => {
  contexts.set(request.source as object, context)
}

/** The request's context; undefined for a request the edge has not seen (a test calling a handler directly). */
export const requestContextOf = (request: HttpServerRequest.HttpServerRequest): RequestContext | undefined => contexts.get(request.source as object)

export const currentRequestContext: Effect.Effect<RequestContext | undefined, never, HttpServerRequest.HttpServerRequest> = Effect.map(
  HttpServerRequest.HttpServerRequest,
  requestContextOf
)

/** A request URL's path, without its query. */
export const pathOf = (url: string): string => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

/**
 * The request's bearer credential, parsed and hashed once however many layers ask (the rate
 * limit counts by key before authentication checks it).
 */
export const credentialOf = (request: HttpServerRequest.HttpServerRequest, context: RequestContext | undefined): Credential | undefined => {
  if (context === undefined) return credentialIn(request.headers.authorization)
  if (context.credential === undefined) context.credential = credentialIn(request.headers.authorization) ?? null
  return context.credential ?? undefined
}

/**
 * The store's view of an HTTP request: who (the key, and the person a delegating key names in
 * Acct-On-Behalf-Of), through which channel, the request id and reason for the audit trail,
 * and the Idempotency-Key. The store is the key's one record, written in the same transaction
 * as the change, so even if a server dies after committing and before answering, a retry of
 * the key (on any replica) replays the result instead of repeating the change; `onReplay`
 * marks such an answer for the `Idempotent-Replayed` header. Whether the key may name a person
 * (scope `account.delegate`) is core's policy, checked by the store.
 */
export const httpInvocation = (principal: Principal): Effect.Effect<Invocation, InvalidRequest, HttpServerRequest.HttpServerRequest> =>
  // On every change: steps of the runtime rather than an Effect.gen (see edge.ts).
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const key = request.headers["idempotency-key"]
    if (key !== undefined && !isIdempotencyKey(key)) {
      return Effect.fail(new InvalidRequest({ message: "Idempotency-Key must be 1–255 visible ASCII characters", issues: [{ path: ["idempotency-key"], message: "expected 1–255 visible ASCII characters" }] }))
    }
    const named = request.headers[ON_BEHALF_OF_HEADER]
    const person = named === undefined ? undefined : decodeOnBehalfOf(named)
    if (person?._tag === "Invalid") return Effect.fail(new InvalidRequest({ message: person.message, issues: [{ path: [ON_BEHALF_OF_HEADER], message: "expected slack:TEAM/USER or cli:USER" }] }))
    const context = requestContextOf(request)
    return Effect.succeed({
      principal,
      onBehalfOf: person?.actor,
      channel: "http",
      requestId: context?.id,
      idempotencyKey: key,
      onReplay: context ? Effect.sync(() => { context.replayed = true }) : undefined,
      reason: decodeReason(request.headers[REASON_HEADER])
    } satisfies Invocation)
  })

/** Reads carry no principal in the Accounts port: both surfaces ask core's policy here first. */
export const requireRead = Effect.flatMap(CurrentPrincipal, (principal) => requireAllowed(principal, "get"))
