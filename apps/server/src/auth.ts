/**
 * Authentication: `Authorization: Bearer <key>` (exactly: bearer.ts) checked against the stored
 * key hashes. One check, two answers: Persona's error format on /api/v1, problem details on /v1.
 *
 * A key this process verifies for the first time was counted against its caller's address by
 * the rate limit (which runs before the key check); here it is counted against the key too, and
 * remembered, so later requests are counted by key id alone.
 */
import { ApiKeys, type Principal } from "@acct/core"
import { Authentication, PersonaErrors, ProblemAuthentication, SoftwareOneErrors } from "@acct/api"
import { RateLimiter } from "@effect/experimental"
import { HttpServerRequest } from "@effect/platform"
import { Effect, Layer } from "effect"
import { KnownKeys, limitedDetail, type RateLimitOptions, spend } from "./rate-limit.js"
import { credentialOf, currentRequestContext, requestContextOf, type RequestContext } from "./request-context.js"

type Failure =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Invalid" }
  | { readonly _tag: "Unavailable"; readonly message: string }
  | { readonly _tag: "Limited"; readonly retryAfter: number }

const MISSING = "Must be authenticated to access this endpoint"
const INVALID = "Token is invalid"

const makeAuthenticate = (options: RateLimitOptions) =>
  Effect.gen(function* () {
    const keys = yield* ApiKeys
    const known = yield* KnownKeys
    const limiter = yield* RateLimiter.RateLimiterStore
    // On every request: steps of the runtime rather than an Effect.gen (see edge.ts).
    const signedIn = (principal: Principal, context: RequestContext | undefined) => {
      if (context) context.principal = `${principal.actor.kind}:${principal.actor.id}`
      return Effect.succeed(principal)
    }
    const authenticate: Effect.Effect<Principal, Failure, HttpServerRequest.HttpServerRequest> = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const header = request.headers.authorization
      if (header === undefined || header.trim() === "") return Effect.fail<Failure>({ _tag: "Missing" })
      const context = requestContextOf(request)
      const credential = credentialOf(request, context)
      if (credential === undefined) return Effect.fail<Failure>({ _tag: "Invalid" })
      const verified = Effect.mapError(keys.verify(credential.token), (e): Failure => (e._tag === "Unauthorized" ? { _tag: "Invalid" } : { _tag: "Unavailable", message: e.message }))
      return Effect.flatMap(verified, (principal) =>
        known.idOf(credential.hash) !== undefined
          ? signedIn(principal, context)
          : Effect.flatMap(spend(limiter, `key:${principal.actor.id}`, options), (verdict) => {
              if (context) context.limit = verdict.state
              if (verdict.retryAfter !== undefined) return Effect.fail<Failure>({ _tag: "Limited", retryAfter: verdict.retryAfter })
              known.remember(credential.hash, principal.actor.id)
              return signedIn(principal, context)
            })
      )
    })
    return authenticate
  })

export const AuthenticationLive = (options: RateLimitOptions) =>
  Layer.effect(
    Authentication,
    Effect.map(makeAuthenticate(options), (authenticate) => ({
      bearer: () =>
        Effect.mapError(authenticate, (f) => {
          switch (f._tag) {
            case "Unavailable":
              return new PersonaErrors.Unavailable({ errors: [{ title: "Service unavailable", details: f.message }] })
            case "Limited":
              return new PersonaErrors.TooManyRequests({ errors: [{ title: "Rate limit exceeded", details: limitedDetail("key", options, f.retryAfter) }] })
            default:
              return new PersonaErrors.Unauthenticated({ errors: [{ title: f._tag === "Missing" ? MISSING : INVALID }] })
          }
        })
    }))
  )

export const ProblemAuthenticationLive = (options: RateLimitOptions) =>
  Layer.effect(
    ProblemAuthentication,
    Effect.map(makeAuthenticate(options), (authenticate) => ({
      bearer: () =>
        Effect.flatMap(currentRequestContext, (request) =>
          Effect.mapError(authenticate, (f) => {
            switch (f._tag) {
              case "Unavailable":
                return new SoftwareOneErrors.Unavailable(SoftwareOneErrors.problemBody(503, "Service Unavailable", f.message, request?.id))
              case "Limited":
                return new SoftwareOneErrors.TooManyRequests(SoftwareOneErrors.problemBody(429, "Too Many Requests", limitedDetail("key", options, f.retryAfter), request?.id))
              default:
                return new SoftwareOneErrors.Unauthenticated(SoftwareOneErrors.problemBody(401, "Unauthorized", f._tag === "Missing" ? MISSING : INVALID, request?.id))
            }
          })
        )
    }))
  )
