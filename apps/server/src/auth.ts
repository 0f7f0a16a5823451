/** Authentication: `Authorization: Bearer <key>` checked against the stored key hashes. */
import { ApiKeys } from "@acct/core"
import { Authentication, PersonaErrors } from "@acct/api"
import { Effect, FiberRef, Layer, Redacted } from "effect"
import { currentRequest } from "./request-context.js"

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.gen(function* () {
    const keys = yield* ApiKeys
    return {
      bearer: (token) =>
        Effect.gen(function* () {
          const secret = Redacted.value(token)
          if (secret === "") {
            return yield* Effect.fail(new PersonaErrors.Unauthenticated({ errors: [{ title: "Must be authenticated to access this endpoint" }] }))
          }
          const principal = yield* keys.verify(secret).pipe(
            Effect.catchTags({
              Unauthorized: () => Effect.fail(new PersonaErrors.Unauthenticated({ errors: [{ title: "Token is invalid" }] })),
              // The key store cannot answer: say so (503), rather than calling a good key bad.
              Unavailable: (e) => Effect.fail(new PersonaErrors.Unavailable({ errors: [{ title: "Service unavailable", details: e.message }] }))
            })
          )
          const request = yield* FiberRef.get(currentRequest)
          if (request) request.principal = `${principal.actor.kind}:${principal.actor.id}`
          return principal
        })
    }
  })
)
