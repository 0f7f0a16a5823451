/**
 * The Accounts port on SoftwareOne Marketplace's accounts API: get, list and the four lifecycle
 * transitions, each exactly one request. SoftwareOne ids (`ACC-…`) are used as they are: an
 * `<account>` argument names the SoftwareOne account. Problem details become typed errors; a 400
 * to a transition is an invalid state, with SoftwareOne's own explanation.
 */
import { Account, actingActors, type AccountRef, Accounts, type AccountsService, ActionRun, type Invocation, InvalidRequest, InvalidState, type LifecycleOperation, NotFound, randomAlphanumeric, type RetryPolicy } from "@acct/core"
import { SOFTWAREONE_PREFIX, SOFTWAREONE_PUBLIC_PREFIX } from "@acct/api"
import type { HttpClient } from "@effect/platform"
import { type Duration, Effect, Layer, Schema } from "effect"
import { fromResponse } from "../wire-errors.js"
import { type ErrorReader, makeUpstream } from "./transport.js"

export interface SoftwareOneOptions {
  /**
   * e.g. https://api.platform.softwareone.com: the accounts API is under
   * /public/v1/accounts/accounts, the prefix of SoftwareOne's current documentation. A base URL
   * that already ends in /public (the older form) is used with /v1/accounts/accounts.
   */
  readonly baseUrl: string
  readonly token: string
  readonly timeout?: Duration.DurationInput | undefined
}

const SoftwareOneAccount = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  externalId: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  type: Schema.String,
  status: Schema.String,
  audit: Schema.optional(Schema.Struct({ created: Schema.optional(Schema.Struct({ at: Schema.optional(Schema.String) })), updated: Schema.optional(Schema.Struct({ at: Schema.optional(Schema.String) })) })),
  $meta: Schema.optional(Schema.Struct({ accountStatus: Schema.optional(Schema.String) }))
})
type SoftwareOneAccount = typeof SoftwareOneAccount.Type
const AccountList = Schema.Struct({ data: Schema.Array(SoftwareOneAccount) })

/**
 * SoftwareOne's account as acct's. Its ids are not acct ids, so the record is built without
 * acct's id checks; the type is SoftwareOne's (Client, Vendor, Operations).
 */
const toAccount = (a: SoftwareOneAccount): Account => {
  const created = new Date(a.audit?.created?.at ?? 0)
  return Account.make(
    {
      id: a.id as Account["id"],
      referenceId: a.externalId,
      accountTypeId: `softwareone:${a.type}` as Account["accountTypeId"],
      accountTypeName: a.type,
      status: a.$meta?.accountStatus ?? a.status,
      fields: { name: { type: "string", value: a.name } },
      tags: [],
      version: 0,
      createdAt: created,
      updatedAt: a.audit?.updated?.at ? new Date(a.audit.updated.at) : created,
      redactedAt: null,
      consolidatedInto: null
    },
    true
  )
}

/** 404 is an unknown account; a 400 to a transition says why the account cannot make it. */
const readError: ErrorReader = (status, body, headers) => {
  const error = fromResponse(status, body, headers)
  if (status === 404) return new NotFound({ entity: "account", ref: "", message: error.message })
  if (status === 400 && error._tag === "InvalidRequest") return new InvalidState({ message: error.message, currentStatus: "" })
  return error
}

/** Where the accounts API is under a base URL (see SoftwareOneOptions.baseUrl). */
export const accountsPathFor = (baseUrl: string) => (/\/public\/*$/.test(baseUrl) ? SOFTWAREONE_PREFIX : SOFTWAREONE_PUBLIC_PREFIX)

const unsupported = (what: string) => Effect.fail(new InvalidRequest({ message: `${what} is not part of SoftwareOne's accounts API` }))

export const makeSoftwareOneAccounts = (options: SoftwareOneOptions) =>
  Effect.gen(function* () {
    const upstream = yield* makeUpstream({ name: "SoftwareOne", baseUrl: options.baseUrl, token: options.token, timeout: options.timeout }, readError)
    const idOf = (ref: AccountRef) => ("id" in ref ? ref.id : ref.referenceId)
    const accountsPath = accountsPathFor(options.baseUrl)
    const path = (ref: AccountRef) => `${accountsPath}/${encodeURIComponent(idOf(ref))}`

    const transition = (ref: AccountRef, operation: LifecycleOperation, invocation: Invocation) => {
      const idempotencyKey = invocation.idempotencyKey ?? `acct-${randomAlphanumeric(24)}`
      return Effect.map(upstream.request({ method: "POST", path: `${path(ref)}/${operation}`, idempotencyKey, onReplay: invocation.onReplay, schema: SoftwareOneAccount }), (answer) => {
        const account = toAccount(answer)
        const at = new Date()
        const run = ActionRun.make(
          {
            id: `wfr_${randomAlphanumeric(24)}` as ActionRun["id"],
            accountId: account.id,
            actionId: null,
            actionName: operation,
            status: "succeeded",
            ...actingActors(invocation),
            parameters: {},
            statusBefore: "",
            statusAfter: account.status,
            events: [],
            error: null,
            idempotencyKey,
            startedAt: at,
            finishedAt: at
          },
          true
        )
        return { account, run }
      })
    }

    const service: AccountsService = {
      list: (q) =>
        q.referenceId !== undefined || q.status !== undefined || q.tag !== undefined || q.accountType !== undefined || q.before !== undefined
          ? unsupported("filtering accounts or paging backwards")
          : Effect.map(
              upstream.request({ method: "GET", path: accountsPath, urlParams: { offset: q.after, limit: q.size ?? 10 }, schema: AccountList }),
              (page) => {
                const offset = Number(q.after ?? 0)
                const size = q.size ?? 10
                return { items: page.data.map(toAccount), next: page.data.length < size ? null : String(offset + page.data.length), prev: offset > 0 ? String(Math.max(0, offset - size)) : null }
              }
            ),
      search: () => unsupported("searching accounts"),
      get: (ref) => Effect.map(upstream.request({ method: "GET", path: path(ref), schema: SoftwareOneAccount }), toAccount),
      lifecycle: transition,
      create: () => unsupported("creating accounts"),
      update: () => unsupported("changing account fields"),
      redact: () => unsupported("redaction"),
      addTag: () => unsupported("tags"),
      removeTag: () => unsupported("tags"),
      setTags: () => unsupported("tags"),
      changeTags: () => unsupported("tags"),
      consolidate: () => unsupported("consolidation"),
      listRelations: () => unsupported("relations"),
      addRelation: () => unsupported("relations"),
      removeRelation: () => unsupported("relations"),
      importAccounts: () => unsupported("importing accounts"),
      getImporter: () => unsupported("importing accounts"),
      listImporters: () => unsupported("importing accounts"),
      listImportErrors: () => unsupported("importing accounts"),
      runAction: () => unsupported("running account actions"),
      listTypes: () => unsupported("an account-type catalog"),
      getType: () => unsupported("an account-type catalog"),
      listActions: () => unsupported("account actions"),
      getAction: () => unsupported("account actions"),
      listRuns: () => unsupported("run history"),
      getRun: () => unsupported("run history")
    }
    return service
  })

export const SoftwareOneAccounts = {
  /** Needs an HttpClient and a RetryPolicy. */
  layer: (options: SoftwareOneOptions): Layer.Layer<Accounts, never, HttpClient.HttpClient | RetryPolicy> => Layer.effect(Accounts, makeSoftwareOneAccounts(options))
}
