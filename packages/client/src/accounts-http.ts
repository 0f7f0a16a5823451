/**
 * The Accounts port over HTTP to an acct server. The same commands and guarantees as the local
 * store: typed errors, RetryPolicy on retryable failures (429 with its hint, 502/503/504,
 * connection errors, timeouts), and one Idempotency-Key per logical operation, reused across
 * its retries, so a retried run-action never runs twice.
 */
import {
  type AccountResource,
  AcctApi,
  fromAccountActionResource,
  fromAccountResource,
  fromAccountTypeWithMeta,
  fromWorkflowRunResource,
  toCreateAccountAttributes,
  toUpdateAccountAttributes
} from "@acct/api"
import {
  AccountActionId,
  type AccountId,
  type AccountRef,
  Accounts,
  type AccountsService,
  AccountTypeId,
  type Invocation,
  InvalidRequest,
  NotFound,
  randomAlphanumeric,
  RetryPolicy
} from "@acct/core"
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Duration, Effect, Layer, Redacted } from "effect"
import { pageFromLinks } from "./page-links.js"
import { changeTagsOver } from "./tag-changes.js"
import { retried } from "./upstream/transport.js"
import { fromResponse } from "./wire-errors.js"

export interface AccountsHttpOptions {
  /** The server, e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string
  readonly apiKey: string | Redacted.Redacted<string>
  /** Per attempt; default 10 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
}


export const makeAccountsHttp = (options: AccountsHttpOptions) =>
  Effect.gen(function* () {
    const retryPolicy = yield* RetryPolicy
    const apiKey = typeof options.apiKey === "string" ? options.apiKey : Redacted.value(options.apiKey)
    const timeout = Duration.decode(options.timeout ?? "10 seconds")
    const client = yield* HttpApiClient.make(AcctApi, {
      baseUrl: options.baseUrl,
      // The generated client is typed for HttpClientError only; our typed errors travel through
      // its error channel unchanged and are sorted out by `classify` below.
      transformClient: (http) =>
        http.pipe(
          HttpClient.mapRequest(HttpClientRequest.bearerToken(apiKey)),
          // Error responses become typed errors here, with the headers (retry hints, request id)
          // that the generated client would otherwise drop.
          HttpClient.transformResponse(
            Effect.flatMap((response) =>
              response.status < 400
                ? Effect.succeed(response)
                : Effect.flatMap(Effect.orElseSucceed(response.json, () => undefined), (body) => Effect.fail(fromResponse(response.status, body, response.headers)))
            )
          )
        ) as unknown as HttpClient.HttpClient
    })

    /** One logical call: a bounded attempt, retried under the policy. */
    const call = retried(retryPolicy, "acct", options.baseUrl, timeout)

    /** The caller's key, or one of our own for this operation: the same across its retries. */
    const keyFor = (invocation: Invocation) => {
      if (invocation.expectedVersion !== undefined) {
        return Effect.fail(new InvalidRequest({ message: "--expect-version is not available against a server yet (the Persona wire format carries no version)" }))
      }
      return Effect.succeed({ "idempotency-key": invocation.idempotencyKey ?? `acct-client-${randomAlphanumeric(24)}` })
    }

    const resolveId = (ref: AccountRef) => ("id" in ref ? Effect.succeed(ref.id) : Effect.map(service.get(ref), (a) => a.id))

    /** A change to one account: its idempotency key, its id, one retried call, the account back. */
    const changeAccount = (
      ref: AccountRef,
      invocation: Invocation,
      send: (accountId: AccountId, headers: { readonly "idempotency-key": string }) => Effect.Effect<{ readonly data: AccountResource }, unknown>
    ) =>
      Effect.gen(function* () {
        const headers = yield* keyFor(invocation)
        const accountId = yield* resolveId(ref)
        return fromAccountResource((yield* call(send(accountId, headers))).data)
      })

    const withRun = (document: { readonly data: Parameters<typeof fromAccountResource>[0]; readonly meta: { readonly "workflow-run-id": string } }) =>
      Effect.map(service.getRun(document.meta["workflow-run-id"] as never), (run) => ({ account: fromAccountResource(document.data), run }))

    const service: AccountsService = {
      list: (q) =>
        call(
          client.persona.listAccounts({
            urlParams: {
              "page[after]": q.after,
              "page[before]": q.before,
              "page[size]": q.size,
              "filter[reference-id]": q.referenceId,
              "filter[account-status]": q.status,
              "filter[tag]": q.tag,
              "filter[account-type-id]": q.accountType
            }
          })
        ).pipe(Effect.map((page) => pageFromLinks(page.data.map(fromAccountResource), page.links))),
      get: (ref) =>
        "id" in ref
          ? Effect.map(call(client.persona.getAccount({ path: { accountId: ref.id } })), (d) => fromAccountResource(d.data))
          : Effect.flatMap(call(client.persona.listAccounts({ urlParams: { "filter[reference-id]": ref.referenceId } })), (page) =>
              page.data[0]
                ? Effect.succeed(fromAccountResource(page.data[0]))
                : Effect.fail(new NotFound({ entity: "account", ref: ref.referenceId, message: `no account with reference id ${JSON.stringify(ref.referenceId)}` }))
            ),
      create: (input, invocation) =>
        Effect.gen(function* () {
          const headers = yield* keyFor(invocation)
          const typeId = AccountTypeId.is(input.accountType) ? input.accountType : (yield* service.getType(input.accountType)).id
          const document = yield* call(
            client.persona.createAccount({
              headers,
              payload: { data: { attributes: toCreateAccountAttributes(input, typeId) } }
            })
          )
          return fromAccountResource(document.data)
        }),
      update: (ref, input, invocation) => {
        if (input.referenceId === null) return Effect.fail(new InvalidRequest({ message: "clearing a reference id is not available against a server" }))
        const attributes = toUpdateAccountAttributes(input)
        return changeAccount(ref, invocation, (accountId, headers) => client.persona.updateAccount({ path: { accountId }, headers, payload: { data: { attributes } } }))
      },
      redact: (ref, invocation) => changeAccount(ref, invocation, (accountId, headers) => client.persona.redactAccount({ path: { accountId }, headers })),
      addTag: (ref, tag, invocation) =>
        changeAccount(ref, invocation, (accountId, headers) => client.persona.addTag({ path: { accountId }, headers, payload: { meta: { "tag-name": tag } } })),
      removeTag: (ref, tag, invocation) =>
        changeAccount(ref, invocation, (accountId, headers) => client.persona.removeTag({ path: { accountId }, headers, payload: { meta: { "tag-name": tag } } })),
      changeTags: (ref, changes, invocation) => changeTagsOver(service)(ref, changes, invocation),
      setTags: (ref, tags, invocation) =>
        changeAccount(ref, invocation, (accountId, headers) => client.persona.setTags({ path: { accountId }, headers, payload: { meta: { "tag-name": tags } } })),
      consolidate: (destination, sources, invocation) =>
        Effect.flatMap(Effect.forEach(sources, resolveId), (ids) =>
          changeAccount(destination, invocation, (accountId, headers) =>
            client.persona.consolidateAccounts({ path: { accountId }, headers, payload: { meta: { "source-account-ids": ids } } })
          )
        ),
      lifecycle: (ref, operation, invocation) =>
        Effect.gen(function* () {
          const headers = yield* keyFor(invocation)
          const accountId = yield* resolveId(ref)
          return yield* withRun(yield* call(client.persona[operation]({ path: { accountId }, headers })))
        }),
      runAction: (ref, action, parameters, invocation) =>
        Effect.gen(function* () {
          const headers = yield* keyFor(invocation)
          const accountId = yield* resolveId(ref)
          const actionId = AccountActionId.is(action) ? action : (yield* service.getAction(action)).id
          return yield* withRun(yield* call(client.persona.runAction({ path: { accountId }, headers, payload: { data: { "account-action-id": actionId, parameters } } })))
        }),
      listTypes: () => Effect.map(call(client.persona.listAccountTypes()), (d) => d.data.map(fromAccountTypeWithMeta)),
      getType: (idOrName) =>
        Effect.flatMap(service.listTypes(), (types) => {
          const type = types.find((t) => t.id === idOrName || t.name === idOrName)
          return type ? Effect.succeed(type) : Effect.fail(NotFound.of("account type", idOrName))
        }),
      listActions: (query) =>
        Effect.gen(function* () {
          const type = query?.accountType !== undefined ? yield* service.getType(query.accountType) : undefined
          const d = yield* call(client.persona.listAccountActions({ urlParams: { "filter[account-type-id]": type?.id } }))
          return d.data.map(fromAccountActionResource)
        }),
      getAction: (idOrName) =>
        AccountActionId.is(idOrName)
          ? Effect.map(call(client.persona.getAccountAction({ path: { accountActionId: idOrName } })), (d) => fromAccountActionResource(d.data))
          : Effect.flatMap(service.listActions(), (actions) => {
              const action = actions.find((a) => a.name === idOrName)
              return action ? Effect.succeed(action) : Effect.fail(NotFound.of("account action", idOrName))
            }),
      listRuns: (q) =>
        Effect.gen(function* () {
          const accountId = q.account ? yield* resolveId(q.account) : undefined
          const page = yield* call(
            client.persona.listWorkflowRuns({ urlParams: { "page[after]": q.after, "page[before]": q.before, "page[size]": q.size, "filter[account-id]": accountId } })
          )
          return pageFromLinks(page.data.map(fromWorkflowRunResource), page.links)
        }),
      getRun: (id) => Effect.map(call(client.persona.getWorkflowRun({ path: { workflowRunId: id } })), (d) => fromWorkflowRunResource(d.data))
    }
    return service
  })

export const AccountsHttp = {
  /** Needs an HttpClient and a RetryPolicy. */
  layer: (options: AccountsHttpOptions): Layer.Layer<Accounts, never, HttpClient.HttpClient | RetryPolicy> => Layer.effect(Accounts, makeAccountsHttp(options)),
  /** With the platform's fetch client and the default retry policy. */
  layerFetch: (options: AccountsHttpOptions): Layer.Layer<Accounts> =>
    Layer.effect(Accounts, makeAccountsHttp(options)).pipe(Layer.provide([FetchHttpClient.layer, RetryPolicy.Default]))
}
