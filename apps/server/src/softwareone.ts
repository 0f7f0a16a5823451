/** Handlers of the SoftwareOne-compatible surface. */
import { AcctApi, CurrentPrincipal, SoftwareOneErrors, toSoftwareOneAccount } from "@acct/api"
import { Accounts, type AccountsError, type LifecycleOperation, parseAccountRef } from "@acct/core"
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Either, FiberRef } from "effect"
import { currentRequest, httpInvocation, requireRead } from "./request-context.js"

/** Answers failures as problem details carrying the request id as traceId. */
const problems = <A, R>(effect: Effect.Effect<A, AccountsError, R>) =>
  Effect.flatMap(FiberRef.get(currentRequest), (request) => Effect.mapError(effect, (e) => SoftwareOneErrors.toProblem(e, request?.id)))

export const SoftwareOneLive = HttpApiBuilder.group(AcctApi, "softwareone", (handlers) =>
  Effect.gen(function* () {
    const accounts = yield* Accounts
    const withType = (account: Parameters<typeof toSoftwareOneAccount>[0]) =>
      Effect.map(accounts.getType(account.accountTypeId), (type) => toSoftwareOneAccount(account, type))
    const refOf = (id: string) => Either.match(parseAccountRef(id), { onLeft: Effect.fail, onRight: Effect.succeed })

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
