/**
 * Authentication: `Authorization: Bearer <key>` checked against the stored key hashes. One
 * check, two answers: Persona's error format on /api/v1, problem details on /v1.
 */
import { ApiKeys, type Principal } from "@acct/core"
import { Authentication, PersonaErrors, ProblemAuthentication, SoftwareOneErrors } from "@acct/api"
import { Effect, FiberRef, Layer, Redacted } from "effect"
import { currentRequest } from "./request-context.js"

type Failure = { readonly _tag: "Missing" } | { readonly _tag: "Invalid" } | { readonly _tag: "Unavailable"; readonly message: string }

const authenticate = (keys: ApiKeys["Type"], token: Redacted.Redacted<string>): Effect.Effect<Principal, Failure> =>
  Effect.gen(function* () {
    const secret = Redacted.value(token)
    if (secret === "") return yield* Effect.fail<Failure>({ _tag: "Missing" })
    const principal = yield* keys.verify(secret).pipe(
      Effect.mapError((e): Failure => (e._tag === "Unauthorized" ? { _tag: "Invalid" } : { _tag: "Unavailable", message: e.message }))
    )
    const request = yield* FiberRef.get(currentRequest)
    if (request) request.principal = `${principal.actor.kind}:${principal.actor.id}`
    return principal
  })

const MISSING = "Must be authenticated to access this endpoint"
const INVALID = "Token is invalid"

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.map(ApiKeys, (keys) => ({
    bearer: (token: Redacted.Redacted<string>) =>
      authenticate(keys, token).pipe(
        Effect.mapError((f) =>
          f._tag === "Unavailable"
            ? new PersonaErrors.Unavailable({ errors: [{ title: "Service unavailable", details: f.message }] })
            : new PersonaErrors.Unauthenticated({ errors: [{ title: f._tag === "Missing" ? MISSING : INVALID }] })
        )
      )
  }))
)

export const ProblemAuthenticationLive = Layer.effect(
  ProblemAuthentication,
  Effect.map(ApiKeys, (keys) => ({
    bearer: (token: Redacted.Redacted<string>) =>
      Effect.flatMap(FiberRef.get(currentRequest), (request) =>
        authenticate(keys, token).pipe(
          Effect.mapError((f) =>
            f._tag === "Unavailable"
              ? new SoftwareOneErrors.Unavailable(SoftwareOneErrors.problemBody(503, "Service Unavailable", f.message, request?.id))
              : new SoftwareOneErrors.Unauthenticated(SoftwareOneErrors.problemBody(401, "Unauthorized", f._tag === "Missing" ? MISSING : INVALID, request?.id))
          )
        )
      )
  }))
)
