/**
 * acct from plain TypeScript or JavaScript, no Effect knowledge needed: the whole Accounts port
 * as async functions.
 *
 *   const acct = createClient({ baseUrl: "http://127.0.0.1:8080", apiKey: process.env.ACCT_API_KEY })
 *   const { account, run, idempotencyKey } = await acct.runAction("abc-123", "Set status", { status: "activated" })
 *
 * Every change is keyed: it sends one Idempotency-Key (yours, or a fresh one) on all its
 * attempts and resolves with that key beside its result. Failures reject with an `AcctError`
 * carrying acct's typed error (`_tag`, `status`, `retryable`), the server's request id, the key,
 * and `maybeApplied` when the change may have happened although the call failed.
 */
import {
  type Account,
  type AccountAction,
  Accounts,
  type AccountsError,
  type AccountsService,
  type AccountType,
  type ActionRun,
  ActionRunId,
  type CreateAccountInput,
  type Importer,
  ImporterId,
  type ImportRowError,
  InvalidRequest,
  type Invocation,
  isAccountsError,
  type LifecycleOperation,
  type ListAccountsQuery,
  type Page,
  type PageQuery,
  parseAccountRef,
  Principal,
  type RetryConfig,
  type SearchAccountsQuery,
  RetryPolicy,
  type TagChanges,
  type UpdateAccountInput
} from "@acct/core"
import { decodeOnBehalfOf, ON_BEHALF_OF_HEADER } from "@acct/api"
import { FetchHttpClient } from "@effect/platform"
import { Cause, Effect, Either, Exit, Layer, ManagedRuntime } from "effect"
import { ACCT_SERVER_IDS, type AccountsHttpOptions, AccountsHttp, newIdempotencyKey } from "./accounts-http.js"
import { callFacts } from "./call-facts.js"

export interface ClientOptions extends AccountsHttpOptions {
  /** Retries of reads (changes follow `keyedRetry`). */
  readonly retry?: Partial<RetryConfig> | undefined
}

export interface MutationOptions {
  /** Repeat the call safely: the first result is replayed for 24 hours. Default: a fresh key. */
  readonly idempotencyKey?: string | undefined
  /** Why the change is made, kept in the server's audit entry (Acct-Reason). */
  readonly reason?: string | undefined
  /**
   * The person this call acts for, as `slack:T…/U…` or `cli:USER` (Acct-On-Behalf-Of): recorded
   * as the actor, with the client's key as the one they acted through. The key needs the
   * `account.delegate` scope.
   */
  readonly onBehalfOf?: string | undefined
}

/** A change's result, with the key it was sent under (repeat the call with it to replay). */
export interface Changed {
  readonly account: Account
  readonly idempotencyKey: string
}
export interface Ran extends Changed {
  readonly run: ActionRun
}

export interface ListRunsOptions {
  /** An account id or reference id. */
  readonly account?: string | undefined
  readonly after?: string | undefined
  readonly before?: string | undefined
  readonly size?: number | undefined
}

/** Why a call failed: acct's typed error and what the client knows about the call. */
export class AcctError extends Error {
  override readonly name = "AcctError"
  /** The typed error's tag: "NotFound", "InvalidState", "Unavailable", … */
  readonly _tag: AccountsError["_tag"]
  readonly status: number
  readonly retryable: boolean
  /** The server's Request-Id, when the failure came from an answer. */
  readonly requestId: string | undefined
  /** The key a change was sent under (undefined for reads). */
  readonly idempotencyKey: string | undefined
  /** The change may have been applied although the call failed: repeat it with `idempotencyKey`. */
  readonly maybeApplied: boolean
  constructor(readonly error: AccountsError, idempotencyKey?: string) {
    const facts = callFacts(error)
    super(error.message, { cause: error })
    this._tag = error._tag
    this.status = error.status
    this.retryable = error.retryable
    this.requestId = facts.requestId
    this.idempotencyKey = facts.idempotencyKey ?? idempotencyKey
    this.maybeApplied = facts.maybeApplied ?? false
  }
}

export interface AcctClient {
  readonly getAccount: (account: string) => Promise<Account>
  /** One page; `next` / `prev` are the cursors for `after` / `before`. */
  readonly listAccounts: (query?: ListAccountsQuery) => Promise<Page<Account>>
  /** Every matching account, page after page: `for await (const a of acct.accounts({ tag: "vip" }))`. */
  readonly accounts: (query?: Omit<ListAccountsQuery, "after" | "before">) => AsyncIterable<Account>
  /**
   * One page of a search in Persona's query language:
   * `acct.searchAccounts({ query: { attribute: "fields.email_address", operator: "eq", value: "ada@example.com" } })`.
   */
  readonly searchAccounts: (query?: SearchAccountsQuery) => Promise<Page<Account>>
  /** Every account a search finds, page after page. */
  readonly search: (query?: Omit<SearchAccountsQuery, "after" | "before">) => AsyncIterable<Account>
  readonly createAccount: (input: CreateAccountInput, options?: MutationOptions) => Promise<Changed>
  /** Changes only what `input` names (see the README's merge rule). */
  readonly updateAccount: (account: string, input: UpdateAccountInput, options?: MutationOptions) => Promise<Changed>
  /** Irreversible: wipes every field value. */
  readonly redactAccount: (account: string, options?: MutationOptions) => Promise<Changed>
  readonly addTag: (account: string, tag: string, options?: MutationOptions) => Promise<Changed>
  readonly removeTag: (account: string, tag: string, options?: MutationOptions) => Promise<Changed>
  /** Adds and removes several tags as one change: all of them, or none. */
  readonly changeTags: (account: string, changes: TagChanges, options?: MutationOptions) => Promise<Changed>
  /** Replaces the account's tags with exactly these. */
  readonly setTags: (account: string, tags: ReadonlyArray<string>, options?: MutationOptions) => Promise<Changed>
  /** Merges the sources into `destination`; the sources are archived. */
  readonly consolidate: (destination: string, sources: ReadonlyArray<string>, options?: MutationOptions) => Promise<Changed>
  readonly lifecycle: (account: string, operation: LifecycleOperation, options?: MutationOptions) => Promise<Ran>
  readonly runAction: (account: string, action: string, parameters?: Readonly<Record<string, unknown>>, options?: MutationOptions) => Promise<Ran>
  /** One page of the accounts `account` relates to under `key` (a relation schema of its type). */
  readonly listRelations: (account: string, key: string, query?: PageQuery) => Promise<Page<Account>>
  /** Relates `account` to `target` (ids or reference ids); relating twice changes nothing. */
  readonly addRelation: (account: string, key: string, target: string, options?: MutationOptions) => Promise<Changed>
  readonly removeRelation: (account: string, key: string, target: string, options?: MutationOptions) => Promise<Changed>
  /** Starts importing a CSV (Persona's importer columns); resolves with the importer, pending. */
  readonly importAccounts: (csv: string, options?: MutationOptions & { readonly accountType?: string | undefined }) => Promise<{ readonly importer: Importer; readonly idempotencyKey: string }>
  readonly getImporter: (id: string) => Promise<Importer>
  readonly listImporters: (query?: PageQuery) => Promise<Page<Importer>>
  /** An importer's refused rows, in file order. */
  readonly listImportErrors: (id: string, query?: PageQuery) => Promise<Page<ImportRowError>>
  readonly listTypes: () => Promise<ReadonlyArray<AccountType>>
  readonly getType: (idOrName: string) => Promise<AccountType>
  readonly listActions: (query?: { readonly accountType?: string | undefined }) => Promise<ReadonlyArray<AccountAction>>
  readonly getAction: (idOrName: string) => Promise<AccountAction>
  readonly listRuns: (query?: ListRunsOptions) => Promise<Page<ActionRun>>
  /** Every matching run, page after page. */
  readonly runs: (query?: Omit<ListRunsOptions, "after" | "before">) => AsyncIterable<ActionRun>
  readonly getRun: (id: string) => Promise<ActionRun>
  /** Releases the client's resources. */
  readonly close: () => Promise<void>
}

// The server acts as the key's principal; this one only fills the port's signature.
const caller = Principal.make({ actor: { kind: "api-key", id: "client", name: "client" }, scopes: [] })

const fromEither = <A, E>(either: Either.Either<A, E>) => Either.match(either, { onLeft: Effect.fail, onRight: Effect.succeed })
// Ids are read as the server makes them (a gateway's are its upstream's).
const ref = (account: string) => fromEither(parseAccountRef(account, ACCT_SERVER_IDS))
const runId = (id: string) =>
  ActionRunId.isOf(ACCT_SERVER_IDS)(id) ? Effect.succeed(id) : Effect.fail(new InvalidRequest({ message: `expected a workflow run id (wfr_…), got ${JSON.stringify(id.slice(0, 60))}` }))

const importerId = (id: string) =>
  ImporterId.isOf(ACCT_SERVER_IDS)(id) ? Effect.succeed(id) : Effect.fail(new InvalidRequest({ message: `expected an importer id (mprt_…), got ${JSON.stringify(id.slice(0, 60))}` }))

/** Pages through `list` from the first page while there is a next one. */
async function* everyPage<A>(list: (after: string | undefined) => Promise<Page<A>>): AsyncGenerator<A> {
  let after: string | undefined
  do {
    const page = await list(after)
    yield* page.items
    after = page.next ?? undefined
  } while (after !== undefined)
}

export const createClient = (options: ClientOptions): AcctClient => {
  const runtime = ManagedRuntime.make(
    AccountsHttp.layer(options).pipe(Layer.provide([FetchHttpClient.layer, RetryPolicy.layer(options.retry ?? {})]))
  )
  const run = <A>(use: (accounts: AccountsService) => Effect.Effect<A, unknown>, idempotencyKey?: string): Promise<A> =>
    runtime.runPromiseExit(Effect.flatMap(Accounts, use)).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      const error = Cause.squash(exit.cause)
      return Promise.reject(isAccountsError(error) ? new AcctError(error, idempotencyKey) : error)
    })
  /** A change under one key (the caller's or a fresh one), resolved with that key. */
  const change = <A extends object>(o: MutationOptions | undefined, use: (accounts: AccountsService, invocation: Invocation & { readonly idempotencyKey: string }) => Effect.Effect<A, unknown>) => {
    const idempotencyKey = o?.idempotencyKey ?? newIdempotencyKey()
    const person = o?.onBehalfOf === undefined ? undefined : decodeOnBehalfOf(o.onBehalfOf)
    const invocation = { principal: caller, channel: "library" as const, idempotencyKey, reason: o?.reason, onBehalfOf: person?._tag === "Person" ? person.actor : undefined }
    return run(
      (a) => (person?._tag === "Invalid" ? Effect.fail(new InvalidRequest({ message: person.message.replace(ON_BEHALF_OF_HEADER, "onBehalfOf") })) : use(a, invocation)),
      idempotencyKey
    ).then((result) => ({ ...result, idempotencyKey }))
  }
  const onAccount = (account: string, o: MutationOptions | undefined, use: (a: AccountsService, r: Effect.Effect.Success<ReturnType<typeof ref>>, i: Parameters<Parameters<typeof change>[1]>[1]) => Effect.Effect<Account, unknown>) =>
    change(o, (a, i) => Effect.flatMap(ref(account), (r) => Effect.map(use(a, r, i), (changed) => ({ account: changed }))))
  const listRuns = (query: ListRunsOptions = {}) =>
    run((a) => Effect.flatMap(query.account === undefined ? Effect.succeed(undefined) : ref(query.account), (account) => a.listRuns({ ...query, account })))
  const client: AcctClient = {
    getAccount: (account) => run((a) => Effect.flatMap(ref(account), a.get)),
    listAccounts: (query = {}) => run((a) => a.list(query)),
    accounts: (query = {}) => everyPage((after) => client.listAccounts({ ...query, after })),
    searchAccounts: (query = {}) => run((a) => a.search(query)),
    search: (query = {}) => everyPage((after) => client.searchAccounts({ ...query, after })),
    createAccount: (input, o) => change(o, (a, i) => Effect.map(a.create(input, i), (account) => ({ account }))),
    updateAccount: (account, input, o) => onAccount(account, o, (a, r, i) => a.update(r, input, i)),
    redactAccount: (account, o) => onAccount(account, o, (a, r, i) => a.redact(r, i)),
    addTag: (account, tag, o) => onAccount(account, o, (a, r, i) => a.addTag(r, tag, i)),
    removeTag: (account, tag, o) => onAccount(account, o, (a, r, i) => a.removeTag(r, tag, i)),
    changeTags: (account, changes, o) => onAccount(account, o, (a, r, i) => a.changeTags(r, changes, i)),
    setTags: (account, tags, o) => onAccount(account, o, (a, r, i) => a.setTags(r, tags, i)),
    consolidate: (destination, sources, o) => onAccount(destination, o, (a, r, i) => Effect.flatMap(Effect.forEach(sources, ref), (s) => a.consolidate(r, s, i))),
    lifecycle: (account, operation, o) => change(o, (a, i) => Effect.flatMap(ref(account), (r) => a.lifecycle(r, operation, i))),
    runAction: (account, action, parameters = {}, o) => change(o, (a, i) => Effect.flatMap(ref(account), (r) => a.runAction(r, action, parameters, i))),
    listRelations: (account, key, query = {}) => run((a) => Effect.flatMap(ref(account), (r) => a.listRelations(r, { ...query, key }))),
    addRelation: (account, key, target, o) => onAccount(account, o, (a, r, i) => Effect.flatMap(ref(target), (t) => a.addRelation(r, { key, target: t }, i))),
    removeRelation: (account, key, target, o) => onAccount(account, o, (a, r, i) => Effect.flatMap(ref(target), (t) => a.removeRelation(r, { key, target: t }, i))),
    importAccounts: (csv, o) => change(o, (a, i) => Effect.map(a.importAccounts({ csv, accountType: o?.accountType }, i), (importer) => ({ importer }))),
    getImporter: (id) => run((a) => Effect.flatMap(importerId(id), a.getImporter)),
    listImporters: (query = {}) => run((a) => a.listImporters(query)),
    listImportErrors: (id, query = {}) => run((a) => Effect.flatMap(importerId(id), (i) => a.listImportErrors(i, query))),
    listTypes: () => run((a) => a.listTypes()),
    getType: (idOrName) => run((a) => a.getType(idOrName)),
    listActions: (query) => run((a) => a.listActions(query)),
    getAction: (idOrName) => run((a) => a.getAction(idOrName)),
    listRuns,
    runs: (query = {}) => everyPage((after) => listRuns({ ...query, after })),
    getRun: (id) => run((a) => Effect.flatMap(runId(id), a.getRun)),
    close: () => runtime.dispose()
  }
  return client
}
