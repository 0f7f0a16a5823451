/**
 * acct from plain TypeScript or JavaScript, no Effect knowledge needed:
 *
 *   const acct = createClient({ baseUrl: "http://127.0.0.1:8080", apiKey: process.env.ACCT_API_KEY })
 *   const { account, run } = await acct.runAction("abc-123", "Set status", { status: "activated" })
 *
 * Failures reject with acct's typed errors (`error._tag`, `error.status`, `error.retryable`).
 */
import {
  type Account,
  Accounts,
  type AccountsService,
  type AccountType,
  type AccountAction,
  type ActionRun,
  type LifecycleOperation,
  type Page,
  parseAccountRef,
  Principal,
  RetryPolicy,
  type RetryConfig,
  type RunResult
} from "@acct/core"
import { FetchHttpClient } from "@effect/platform"
import { Cause, Effect, Either, Exit, Layer, ManagedRuntime } from "effect"
import { type AccountsHttpOptions, AccountsHttp } from "./accounts-http.js"

export interface ClientOptions extends AccountsHttpOptions {
  readonly retry?: Partial<RetryConfig> | undefined
}

export interface MutationOptions {
  /** Repeat the call safely: the first result is replayed for 24 hours. */
  readonly idempotencyKey?: string | undefined
}

export interface AcctClient {
  readonly getAccount: (account: string) => Promise<Account>
  readonly listAccounts: (query?: Parameters<AccountsService["list"]>[0]) => Promise<Page<Account>>
  readonly runAction: (account: string, action: string, parameters?: Readonly<Record<string, unknown>>, options?: MutationOptions) => Promise<RunResult>
  readonly lifecycle: (account: string, operation: LifecycleOperation, options?: MutationOptions) => Promise<RunResult>
  readonly addTag: (account: string, tag: string, options?: MutationOptions) => Promise<Account>
  readonly removeTag: (account: string, tag: string, options?: MutationOptions) => Promise<Account>
  readonly listTypes: () => Promise<ReadonlyArray<AccountType>>
  readonly listActions: () => Promise<ReadonlyArray<AccountAction>>
  readonly getRun: (id: string) => Promise<ActionRun>
  /** Releases the client's resources. */
  readonly close: () => Promise<void>
}

// The server acts as the key's principal; this one only fills the port's signature.
const caller = Principal.make({ actor: { kind: "api-key", id: "client", name: "client" }, scopes: [] })

export const createClient = (options: ClientOptions): AcctClient => {
  const runtime = ManagedRuntime.make(
    AccountsHttp.layer(options).pipe(Layer.provide([FetchHttpClient.layer, RetryPolicy.layer(options.retry ?? {})]))
  )
  const run = <A>(use: (accounts: AccountsService) => Effect.Effect<A, unknown>): Promise<A> =>
    runtime.runPromiseExit(Effect.flatMap(Accounts, use)).then((exit) => (Exit.isSuccess(exit) ? exit.value : Promise.reject(Cause.squash(exit.cause))))
  const ref = (account: string) => Either.match(parseAccountRef(account), { onLeft: Effect.fail, onRight: Effect.succeed })
  const invocation = (o?: MutationOptions) => ({ principal: caller, channel: "library" as const, idempotencyKey: o?.idempotencyKey })
  return {
    getAccount: (account) => run((a) => Effect.flatMap(ref(account), a.get)),
    listAccounts: (query = {}) => run((a) => a.list(query)),
    runAction: (account, action, parameters = {}, o) => run((a) => Effect.flatMap(ref(account), (r) => a.runAction(r, action, parameters, invocation(o)))),
    lifecycle: (account, operation, o) => run((a) => Effect.flatMap(ref(account), (r) => a.lifecycle(r, operation, invocation(o)))),
    addTag: (account, tag, o) => run((a) => Effect.flatMap(ref(account), (r) => a.addTag(r, tag, invocation(o)))),
    removeTag: (account, tag, o) => run((a) => Effect.flatMap(ref(account), (r) => a.removeTag(r, tag, invocation(o)))),
    listTypes: () => run((a) => a.listTypes()),
    listActions: () => run((a) => a.listActions()),
    getRun: (id) => run((a) => a.getRun(id as never)),
    close: () => runtime.dispose()
  }
}
