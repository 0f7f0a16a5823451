/**
 * The Accounts port over HTTP to an acct server. The same commands and guarantees as the local
 * store: typed errors, RetryPolicy on retryable failures (429 with its hint, 502/503/504,
 * connection errors, timeouts), and one Idempotency-Key per logical operation, reused across
 * its retries, so a retried run-action never runs twice. The server's events (the Events port),
 * webhooks and their deliveries (Webhooks, WebhookDeliveries) come over the same client.
 */
import {
  type AccountResource,
  AcctApi,
  encodeOnBehalfOf,
  encodeReason,
  fromAccountActionResource,
  fromAccountResource,
  fromAccountTypeWithMeta,
  fromEventResource,
  fromWebhookAttemptResource,
  fromWebhookResource,
  fromWebhookWithSecretResource,
  toWebhookRequestAttributes,
  fromImporterResource,
  type ImporterResource,
  fromWorkflowRunResource,
  ON_BEHALF_OF_HEADER,
  REASON_HEADER,
  referenceIdFilter,
  toCreateAccountAttributes,
  toListEventsParams,
  toSearchBody,
  toUpdateAccountAttributes
} from "@acct/api"
import {
  AccountActionId,
  type AccountId,
  type AccountRef,
  Accounts,
  type AccountsError,
  type AccountsService,
  AccountTypeId,
  Events,
  type EventsService,
  type Invocation,
  InvalidRequest,
  NotFound,
  randomAlphanumeric,
  type RetryConfig,
  RetryPolicy,
  WebhookDeliveries,
  type WebhookDeliveriesService,
  Webhooks,
  type WebhooksService
} from "@acct/core"
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Context, Duration, Effect, FiberRef, Layer, Option, Redacted } from "effect"
import { pageFromLinks } from "./page-links.js"
import { recordFacts } from "./call-facts.js"
import { retried, retriedKeyed } from "./upstream/transport.js"
import { fromResponse } from "./wire-errors.js"
import { ACCT_SERVER_IDS } from "./server-ids.js"
import { toldRun, type ToldRun } from "./told-run.js"

export interface AccountsHttpOptions {
  /** The server, e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string
  readonly apiKey: string | Redacted.Redacted<string>
  /** Per attempt; default 10 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Retries of keyed operations (every change: each sends one Idempotency-Key on all its
   * attempts, so retrying is safe). Default `KEYED_RETRY`: they keep trying across a server
   * restart of up to 30 seconds. Reads follow the RetryPolicy service.
   */
  readonly keyedRetry?: Partial<RetryConfig> | undefined
}

/**
 * Keyed operations ride out a server restart of up to 30 s: attempts keep coming for 35 s (a
 * refused connection costs nothing), at most 3 s apart, within a retry budget of their own.
 */
export const KEYED_RETRY: Partial<RetryConfig> = { maxAttempts: 60, maxElapsed: "35 seconds", baseDelay: "200 millis", maxDelay: "3 seconds" }

export { ACCT_SERVER_IDS }
const isActionId = AccountActionId.isOf(ACCT_SERVER_IDS)
const isTypeId = AccountTypeId.isOf(ACCT_SERVER_IDS)

/** A fresh key for one logical operation, the same on all its retries. */
export const newIdempotencyKey = () => `acct-client-${randomAlphanumeric(24)}`

/** What a run-action or lifecycle call asked for: its answer does not repeat it. */
type RunAsked = Pick<ToldRun, "actionId" | "actionName" | "parameters" | "invocation" | "idempotencyKey" | "startedAt">

/** The Accounts and Events ports over one HTTP client to an acct server. */
export const makeAcctHttp = (options: AccountsHttpOptions) =>
  Effect.gen(function* () {
    const retryPolicy = yield* RetryPolicy
    const keyedPolicy = yield* RetryPolicy.make({ ...retryPolicy.config, ...KEYED_RETRY, ...options.keyedRetry })
    const apiKey = typeof options.apiKey === "string" ? options.apiKey : Redacted.value(options.apiKey)
    const timeout = Duration.decode(options.timeout ?? "10 seconds")
    /** The current change's `onReplay`, run when the server answers from the key's record. */
    const onReplay = FiberRef.unsafeMake<Effect.Effect<void> | undefined>(undefined)
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
              response.headers["idempotent-replayed"] === "true" ? Effect.as(Effect.flatMap(FiberRef.get(onReplay), (run) => run ?? Effect.void), response) : Effect.succeed(response)
            )
          ),
          HttpClient.transformResponse(
            Effect.flatMap((response) =>
              response.status < 400
                ? Effect.succeed(response)
                : Effect.flatMap(Effect.orElseSucceed(response.json, () => undefined), (body) => Effect.fail(fromResponse(response.status, body, response.headers)))
            )
          )
        ) as unknown as HttpClient.HttpClient
    })

    /**
     * One logical call: a bounded attempt, retried under the policy. The reads a change needs
     * (resolving a reference id, an action name) ride out a restart as its send does.
     */
    const inChange = FiberRef.unsafeMake(false)
    const call = <A>(attempt: Effect.Effect<A, unknown>) =>
      Effect.flatMap(FiberRef.get(inChange), (keyedOperation) => retried(keyedOperation ? keyedPolicy : retryPolicy, "acct", options.baseUrl, timeout)(attempt))
    const asChange = <A, E>(operation: Effect.Effect<A, E>) => Effect.locally(operation, inChange, true)
    /** One keyed change: the same, under the keyed policy, and honest about a lost answer. */
    const keyed = (headers: { readonly "idempotency-key": string }) => retriedKeyed(keyedPolicy, "acct", options.baseUrl, timeout)(headers["idempotency-key"])

    type KeyHeader = { readonly "idempotency-key": string; readonly [REASON_HEADER]?: string; readonly [ON_BEHALF_OF_HEADER]?: string }
    /** The caller's key, or one of our own for this operation: the same across its retries. */
    const keyFor = (invocation: Invocation) => {
      if (invocation.expectedVersion !== undefined) {
        return Effect.fail(new InvalidRequest({ message: "--expect-version is not available against a server yet (the Persona wire format carries no version)" }))
      }
      const key = invocation.idempotencyKey ?? newIdempotencyKey()
      // The reason and the person acted for travel too, so the server's audit entry keeps them
      // as a local change would (naming a person needs a key with account.delegate).
      return Effect.succeed<KeyHeader>({
        "idempotency-key": key,
        ...(invocation.reason ? { [REASON_HEADER]: encodeReason(invocation.reason) } : {}),
        ...(invocation.onBehalfOf ? { [ON_BEHALF_OF_HEADER]: encodeOnBehalfOf(invocation.onBehalfOf) } : {})
      })
    }

    const resolveId = (ref: AccountRef) => ("id" in ref ? Effect.succeed(ref.id) : Effect.map(service.get(ref), (a) => a.id))

    /** A change: its idempotency key, then `body` with every read and the send under the keyed policy. */
    const change = <A>(invocation: Invocation, body: (headers: KeyHeader) => Effect.Effect<A, AccountsError>) =>
      asChange(Effect.locally(Effect.flatMap(keyFor(invocation), body), onReplay, invocation.onReplay))

    /** A change to one account: its idempotency key, its id, one retried call, the account back. */
    const changeAccount = (
      ref: AccountRef,
      invocation: Invocation,
      send: (accountId: AccountId, headers: KeyHeader) => Effect.Effect<{ readonly data: AccountResource }, unknown>
    ) =>
      change(invocation, (headers) =>
        Effect.gen(function* () {
          const accountId = yield* resolveId(ref)
          return fromAccountResource((yield* keyed(headers)(send(accountId, headers))).data)
        })
      )

    /**
     * The account and run of a run-action or lifecycle answer. The action has run once the server
     * answers, so nothing after that may fail the change: the run is the answer's
     * (`toldRun`), or the server's own record of it where the server gives one (an acct
     * server on its store; a gateway to Persona cannot, "not available from Persona's API", nor
     * can a key without account.read). Reading the record back is a plain read, not a change's.
     */
    const withRun = (asked: RunAsked) => (document: { readonly data: AccountResource; readonly meta: { readonly "workflow-run-id": string } }) => {
      const account = fromAccountResource(document.data)
      const told = toldRun({ ...asked, id: document.meta["workflow-run-id"], account, finishedAt: new Date() })
      return Effect.map(Effect.option(Effect.locally(service.getRun(told.id), inChange, false)), (recorded) => ({ account, run: Option.getOrElse(recorded, () => told) }))
    }
    /** What a change asks for, as `withRun` needs it. */
    const asking = (headers: KeyHeader, invocation: Invocation, action: Pick<RunAsked, "actionId" | "actionName" | "parameters">): RunAsked => ({
      ...action,
      invocation,
      idempotencyKey: headers["idempotency-key"],
      startedAt: new Date()
    })

    /** Persona's importer resource has no row count or type: acct's errors list carries them. */
    const withImporterMeta = (resource: typeof ImporterResource.Type) =>
      Effect.map(call(client.persona.listImporterErrors({ path: { importerId: resource.id as never }, urlParams: { "page[size]": 1 } })), (page) =>
        fromImporterResource(resource, page.meta)
      )

    const service: AccountsService = {
      list: (q) =>
        call(
          client.persona.listAccounts({
            urlParams: {
              "page[after]": q.after,
              "page[before]": q.before,
              "page[size]": q.size,
              "filter[reference-id]": referenceIdFilter(q.referenceId),
              "filter[account-status]": q.status,
              "filter[tag]": q.tag,
              "filter[account-type-id]": q.accountType
            }
          })
        ).pipe(Effect.map((page) => pageFromLinks(page.data.map(fromAccountResource), page.links))),
      search: (q) =>
        Effect.map(call(client.persona.searchAccounts({ urlParams: {}, payload: toSearchBody(q) })), (page) => pageFromLinks(page.data.map(fromAccountResource), page.links)),
      get: (ref) =>
        "id" in ref
          ? Effect.map(call(client.persona.getAccount({ path: { accountId: ref.id }, urlParams: {} })), (d) => fromAccountResource(d.data))
          : // Read with its response: a miss is an empty page, and its NotFound still names the request.
            Effect.flatMap(call(client.persona.listAccounts({ urlParams: { "filter[reference-id]": ref.referenceId }, withResponse: true })), ([page, response]) => {
              if (page.data[0]) return Effect.succeed(fromAccountResource(page.data[0]))
              const requestId = response.headers["request-id"]
              const message = `no account with reference id ${JSON.stringify(ref.referenceId)}${requestId ? ` (request ${requestId})` : ""}`
              return Effect.fail(recordFacts(new NotFound({ entity: "account", ref: ref.referenceId, message }), { requestId }))
            }),
      create: (input, invocation) =>
        change(invocation, (headers) => Effect.gen(function* () {
          const typeId = isTypeId(input.accountType) ? input.accountType : (yield* service.getType(input.accountType)).id
          const document = yield* keyed(headers)(
            client.persona.createAccount({
              urlParams: {},
              headers,
              payload: { data: { attributes: toCreateAccountAttributes(input, typeId) } }
            })
          )
          return fromAccountResource(document.data)
        })),
      update: (ref, input, invocation) => {
        if (input.referenceId === null) return Effect.fail(new InvalidRequest({ message: "clearing a reference id is not available against a server" }))
        const attributes = toUpdateAccountAttributes(input)
        return changeAccount(ref, invocation, (accountId, headers) => client.persona.updateAccount({ path: { accountId }, urlParams: {}, headers, payload: { data: { attributes } } }))
      },
      redact: (ref, invocation) => changeAccount(ref, invocation, (accountId, headers) => client.persona.redactAccount({ path: { accountId }, urlParams: {}, headers })),
      addTag: (ref, tag, invocation) =>
        changeAccount(ref, invocation, (accountId, headers) => client.persona.addTag({ path: { accountId }, urlParams: {}, headers, payload: { meta: { "tag-name": tag } } })),
      removeTag: (ref, tag, invocation) =>
        changeAccount(ref, invocation, (accountId, headers) => client.persona.removeTag({ path: { accountId }, urlParams: {}, headers, payload: { meta: { "tag-name": tag } } })),
      // acct's change-tags: the server adds and removes in one transaction (Persona has no such call).
      changeTags: (ref, changes, invocation) =>
        changeAccount(ref, invocation, (accountId, headers) =>
          client.persona.changeTags({ path: { accountId }, urlParams: {}, headers, payload: { meta: { "add-tags": changes.add ?? [], "remove-tags": changes.remove ?? [] } } })
        ),
      setTags: (ref, tags, invocation) =>
        changeAccount(ref, invocation, (accountId, headers) => client.persona.setTags({ path: { accountId }, urlParams: {}, headers, payload: { meta: { "tag-name": tags } } })),
      consolidate: (destination, sources, invocation) =>
        asChange(
          Effect.flatMap(Effect.forEach(sources, resolveId), (ids) =>
            changeAccount(destination, invocation, (accountId, headers) =>
              client.persona.consolidateAccounts({ path: { accountId }, urlParams: {}, headers, payload: { meta: { "source-account-ids": ids } } })
            )
          )
        ),
      listRelations: (ref, q) =>
        Effect.gen(function* () {
          const accountId = yield* resolveId(ref)
          const page = yield* call(
            client.persona.listRelations({
              path: { accountId },
              urlParams: {
                "filter[key]": q.key,
                "filter[created-at-start]": q.createdAtStart,
                "filter[created-at-end]": q.createdAtEnd,
                "page[after]": q.after,
                "page[before]": q.before,
                "page[size]": q.size
              }
            })
          )
          return pageFromLinks(page.data.map(fromAccountResource), page.links)
        }),
      addRelation: (ref, relation, invocation) =>
        asChange(
          Effect.flatMap(resolveId(relation.target), (targetId) =>
            changeAccount(ref, invocation, (accountId, headers) =>
              client.persona.addRelation({ path: { accountId }, urlParams: {}, headers, payload: { meta: { "relation-schema-key": relation.key, "target-object-id": targetId } } })
            )
          )
        ),
      removeRelation: (ref, relation, invocation) =>
        asChange(
          Effect.flatMap(resolveId(relation.target), (targetId) =>
            changeAccount(ref, invocation, (accountId, headers) =>
              client.persona.removeRelation({ path: { accountId }, urlParams: {}, headers, payload: { meta: { "relation-schema-key": relation.key, "target-object-id": targetId } } })
            )
          )
        ),
      importAccounts: (input, invocation) =>
        change(invocation, (headers) =>
          Effect.flatMap(
            keyed(headers)(
              client.persona.importAccounts({
                headers,
                urlParams: { "account-type-id": input.accountType },
                payload: { data: { attributes: { file: { data: Buffer.from(input.csv, "utf8").toString("base64"), filename: "accounts.csv" } } } }
              })
            ),
            (document) => withImporterMeta(document.data)
          )
        ),
      getImporter: (id) => Effect.flatMap(call(client.persona.getImporter({ path: { importerId: id } })), (document) => withImporterMeta(document.data)),
      listImporters: (q) =>
        Effect.flatMap(call(client.persona.listImporters({ urlParams: { "page[after]": q.after, "page[before]": q.before, "page[size]": q.size } })), (page) =>
          Effect.map(Effect.forEach(page.data, withImporterMeta), (items) => pageFromLinks(items, page.links))
        ),
      listImportErrors: (id, q) =>
        Effect.map(call(client.persona.listImporterErrors({ path: { importerId: id }, urlParams: { "page[after]": q.after, "page[size]": q.size } })), (page) =>
          pageFromLinks(page.data, page.links)
        ),
      lifecycle: (ref, operation, invocation) =>
        change(invocation, (headers) => Effect.gen(function* () {
          const accountId = yield* resolveId(ref)
          const asked = asking(headers, invocation, { actionId: null, actionName: operation, parameters: {} })
          return yield* Effect.flatMap(keyed(headers)(client.persona[operation]({ path: { accountId }, urlParams: {}, headers })), withRun(asked))
        })),
      runAction: (ref, action, parameters, invocation) =>
        change(invocation, (headers) => Effect.gen(function* () {
          const accountId = yield* resolveId(ref)
          const actionId = isActionId(action) ? action : (yield* service.getAction(action)).id
          const asked = asking(headers, invocation, { actionId, actionName: action, parameters })
          return yield* Effect.flatMap(keyed(headers)(client.persona.runAction({ path: { accountId }, urlParams: {}, headers, payload: { data: { "account-action-id": actionId, parameters } } })), withRun(asked))
        })),
      listTypes: () => Effect.map(call(client.persona.listAccountTypes({ urlParams: {} })), (d) => d.data.map(fromAccountTypeWithMeta)),
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
        isActionId(idOrName)
          ? Effect.map(call(client.persona.getAccountAction({ path: { accountActionId: idOrName }, urlParams: {} })), (d) => fromAccountActionResource(d.data))
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
      getRun: (id) => Effect.map(call(client.persona.getWorkflowRun({ path: { workflowRunId: id }, urlParams: {} })), (d) => fromWorkflowRunResource(d.data))
    }

    const events: EventsService = {
      list: (q) => Effect.map(call(client.events.listEvents({ urlParams: toListEventsParams(q) })), (page) => pageFromLinks(page.data.map(fromEventResource), page.links)),
      get: (id) => Effect.map(call(client.events.getEvent({ path: { eventId: id } })), (d) => fromEventResource(d.data))
    }
    /**
     * Creating, cloning and rotating make something new each time and take no Idempotency-Key:
     * one attempt, never retried (a retry after a lost answer would make a second webhook).
     */
    const oncePolicy = yield* RetryPolicy.make({ ...retryPolicy.config, maxAttempts: 1 })
    const once = <A>(attempt: Effect.Effect<A, unknown>) => retried(oncePolicy, "acct", options.baseUrl, timeout)(attempt)
    const webhookDocument = (d: { readonly data: Parameters<typeof fromWebhookResource>[0] }) => fromWebhookResource(d.data)
    const made = (d: { readonly data: Parameters<typeof fromWebhookWithSecretResource>[0] }) => fromWebhookWithSecretResource(d.data)
    const statusAction = { enabled: client.webhooks.enableWebhook, disabled: client.webhooks.disableWebhook, archived: client.webhooks.archiveWebhook } as const

    const webhooks: WebhooksService = {
      create: (input) => Effect.map(once(client.webhooks.createWebhook({ headers: {}, payload: { data: { attributes: { ...toWebhookRequestAttributes(input), name: input.name, url: input.url, "enabled-events": input.enabledEvents } } } })), made),
      list: (q) => Effect.map(call(client.webhooks.listWebhooks({ urlParams: { "page[after]": q.after, "page[before]": q.before, "page[size]": q.size } })), (page) => pageFromLinks(page.data.map(fromWebhookResource), page.links)),
      get: (id) => Effect.map(call(client.webhooks.getWebhook({ path: { webhookId: id } })), webhookDocument),
      // A PATCH and the status actions land in the same state when repeated: retried like reads.
      update: (id, changes) => Effect.map(call(client.webhooks.updateWebhook({ path: { webhookId: id }, headers: {}, payload: { data: { attributes: toWebhookRequestAttributes(changes) } } })), webhookDocument),
      setStatus: (id, status) => Effect.map(call(statusAction[status]({ path: { webhookId: id }, headers: {} })), webhookDocument),
      clone: (id) => Effect.map(once(client.webhooks.cloneWebhook({ path: { webhookId: id }, headers: {} })), made),
      rotateSecret: (id, graceSeconds) =>
        Effect.map(once(client.webhooks.rotateWebhookSecret({ path: { webhookId: id }, headers: {}, payload: graceSeconds === undefined ? {} : { meta: { "expires-in-seconds": graceSeconds } } })), made)
    }

    const deliveries: WebhookDeliveriesService = {
      attempts: (webhookId, size) => Effect.map(call(client.webhooks.listWebhookAttempts({ path: { webhookId }, urlParams: { "page[size]": size } })), (d) => d.data.map((a) => fromWebhookAttemptResource(webhookId, a))),
      // A replay queues deliveries each time it is made: one attempt, like a create.
      replay: (request) =>
        Effect.map(
          request.eventId !== undefined
            ? once(client.events.replayEvent({ path: { eventId: request.eventId as never }, payload: { meta: { "webhook-id": request.webhookId } } }))
            : once(client.events.replayEvents({ payload: { meta: { "created-at-start": (request.since ?? new Date(0)).toISOString(), "webhook-id": request.webhookId } } })),
          (answer) => answer.meta
        )
    }
    return { accounts: service, events, webhooks, deliveries }
  })

export const makeAccountsHttp = (options: AccountsHttpOptions) => Effect.map(makeAcctHttp(options), (ports) => ports.accounts)

export const AccountsHttp = {
  /** Needs an HttpClient and a RetryPolicy. */
  layer: (options: AccountsHttpOptions): Layer.Layer<Accounts, never, HttpClient.HttpClient | RetryPolicy> => Layer.effect(Accounts, makeAccountsHttp(options)),
  /** With the platform's fetch client and the default retry policy. */
  layerFetch: (options: AccountsHttpOptions): Layer.Layer<Accounts> =>
    Layer.effect(Accounts, makeAccountsHttp(options)).pipe(Layer.provide([FetchHttpClient.layer, RetryPolicy.Default])),
  /** The server's events (GET /api/v1/events); needs an HttpClient and a RetryPolicy. */
  eventsLayer: (options: AccountsHttpOptions): Layer.Layer<Events, never, HttpClient.HttpClient | RetryPolicy> =>
    Layer.effect(Events, Effect.map(makeAcctHttp(options), (ports) => ports.events)),
  /** The server's webhooks, their attempts and replays (/api/v1/webhooks, /events/…/replay); needs an HttpClient and a RetryPolicy. */
  webhooksLayer: (options: AccountsHttpOptions): Layer.Layer<Webhooks | WebhookDeliveries, never, HttpClient.HttpClient | RetryPolicy> =>
    Layer.effectContext(Effect.map(makeAcctHttp(options), (ports) => Context.make(Webhooks, ports.webhooks).pipe(Context.add(WebhookDeliveries, ports.deliveries))))
}
