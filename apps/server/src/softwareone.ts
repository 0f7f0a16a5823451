/** Handlers of the SoftwareOne-compatible surface. */
import { AcctApi, CurrentPrincipal, SOFTWAREONE_PREFIX, SOFTWAREONE_PUBLIC_PREFIX, SoftwareOneErrors, toSoftwareOneAccount } from "@acct/api"
import { Accounts, type AccountsError, type LifecycleOperation, parseAccountRef } from "@acct/core"
import { HttpApiBuilder, HttpServerRequest, type HttpServerResponse } from "@effect/platform"
import { Effect, Either } from "effect"
import { BackendIds } from "@acct/backend"
import { currentRequestContext, httpInvocation, requireRead } from "./request-context.js"

/** Answers failures as problem details carrying the request id as traceId. */
const problems = <A, R>(effect: Effect.Effect<A, AccountsError, R>) =>
  Effect.flatMap(currentRequestContext, (request) => Effect.mapError(effect, (e) => SoftwareOneErrors.toProblem(e, request?.id)))

/**
 * SoftwareOne's current documentation puts the accounts API under /public/v1/accounts/accounts:
 * those requests are served by the same routes as /v1/accounts/accounts (the OpenAPI document
 * lists both, see @acct/api's extensions.ts).
 */
export const softwareOnePublicPrefix = <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const rest = request.url.slice(SOFTWAREONE_PUBLIC_PREFIX.length)
    return request.url.startsWith(SOFTWAREONE_PUBLIC_PREFIX) && (rest === "" || rest.startsWith("/") || rest.startsWith("?"))
      ? Effect.provideService(app, HttpServerRequest.HttpServerRequest, request.modify({ url: `${SOFTWAREONE_PREFIX}${rest}` }))
      : app
  })

export const SoftwareOneLive = HttpApiBuilder.group(AcctApi, "softwareone", (handlers) =>
  Effect.gen(function* () {
    const accounts = yield* Accounts
    const owner = yield* BackendIds
    const withType = (account: Parameters<typeof toSoftwareOneAccount>[0]) =>
      Effect.map(accounts.getType(account.accountTypeId), (type) => toSoftwareOneAccount(account, type))
    const refOf = (id: string) => Either.match(parseAccountRef(id, owner), { onLeft: Effect.fail, onRight: Effect.succeed })

    const transition = (operation: LifecycleOperation) => ({ path }: { readonly path: { readonly id: string } }) =>
      problems(
        Effect.gen(function* () {
          const invocation = yield* Effect.flatMap(CurrentPrincipal, httpInvocation)
          const { account } = yield* accounts.lifecycle(yield* refOf(path.id), operation, invocation)
          return yield* withType(account)
        })
      )

    return handlers
      .handle("list", ({ urlParams }) =>
        problems(
          Effect.gen(function* () {
            yield* requireRead
            const limit = urlParams.limit ?? 10
            const offset = urlParams.offset ?? 0
            // The store pages by cursor; walk to the offset a page at a time.
            let skipped = 0
            let after: string | undefined
            while (skipped < offset) {
              const page = yield* accounts.list({ size: Math.min(100, offset - skipped), after })
              skipped += page.items.length
              if (page.next === null) return { $meta: { pagination: { offset, limit } }, data: [] }
              after = page.next
            }
            const page = yield* accounts.list({ size: limit, after })
            return { $meta: { pagination: { offset, limit } }, data: yield* Effect.forEach(page.items, withType) }
          })
        )
      )
      .handle("get", ({ path }) =>
        problems(Effect.gen(function* () {
          yield* requireRead
          return yield* withType(yield* accounts.get(yield* refOf(path.id)))
        }))
      )
      .handle("enable", transition("enable"))
      .handle("disable", transition("disable"))
      .handle("activate", transition("activate"))
      .handle("deactivate", transition("deactivate"))
  })
)
