/**
 * The Accounts port on SoftwareOne Marketplace's accounts API: get, list and the four lifecycle
 * transitions, each exactly one request. SoftwareOne ids (`ACC-…`) are used as they are: an
 * `<account>` argument names the SoftwareOne account. Problem details become typed errors; a 400
 * to a transition is an invalid state, with SoftwareOne's own explanation.
 */
import { Account, type AccountRef, Accounts, type AccountsService, AccountType, type Invocation, InvalidRequest, InvalidState, type LifecycleMapping, type LifecycleOperation, NotFound, randomAlphanumeric, type RetryPolicy } from "@acct/core"
import { SOFTWAREONE_PREFIX, SOFTWAREONE_PUBLIC_PREFIX } from "@acct/api"
import type { HttpClient } from "@effect/platform"
import { type Duration, Effect, Layer, Schema } from "effect"
import { toldRun } from "../told-run.js"
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

/** An account's type as acct names it: SoftwareOne's type (Client, Vendor, Operations) under this prefix. */
const TYPE_PREFIX = "softwareone:"

/**
 * SoftwareOne has no account-type catalog: each account says its own lifecycle state
 * (`status`). An upstream that is acct also says its own status name (`$meta.accountStatus`),
 * which becomes the account's status; otherwise the state is the status. The provider's account
 * type for `softwareone:<type>` maps each state to the status name last answered with it (for a
 * real SoftwareOne, the state's own name), so acct's lifecycle rules and its SoftwareOne surface
 * read the state the upstream said (gateway mode).
 */
const stateKey = { Active: "active", Enabled: "enabled", Disabled: "disabled" } as const

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
      accountTypeId: `${TYPE_PREFIX}${a.type}` as Account["accountTypeId"],
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

    // Per SoftwareOne type: which status name each lifecycle state was last answered with.
    const lifecycles = new Map<string, { -readonly [K in keyof LifecycleMapping]: string }>()
    const lifecycleOf = (typeName: string) => {
      let known = lifecycles.get(typeName)
      if (known === undefined) lifecycles.set(typeName, (known = { active: "Active", enabled: "Enabled", disabled: "Disabled" }))
      return known
    }
    /** The account, after noting what its status name means (see stateKey). */
    const read = (a: SoftwareOneAccount): Account => {
      const key = stateKey[a.status as keyof typeof stateKey]
      if (key !== undefined) lifecycleOf(a.type)[key] = a.$meta?.accountStatus ?? a.status
      return toAccount(a)
    }
    const getType = (id: string) => {
      if (!id.startsWith(TYPE_PREFIX)) return Effect.fail(NotFound.of("account type", id))
      const name = id.slice(TYPE_PREFIX.length)
      const lifecycle = { ...lifecycleOf(name) }
      const statuses = [...new Set([lifecycle.active, lifecycle.enabled, lifecycle.disabled])] as [string, ...Array<string>]
      return Effect.succeed(
        AccountType.make(
          { id: id as AccountType["id"], name, description: `SoftwareOne's ${name} accounts`, fields: [], relations: [], statuses, defaultStatus: lifecycle.enabled, lifecycle, createdAt: new Date(0), updatedAt: new Date(0) },
          true
        )
      )
    }

    const transition = (ref: AccountRef, operation: LifecycleOperation, invocation: Invocation) => {
      const idempotencyKey = invocation.idempotencyKey ?? `acct-${randomAlphanumeric(24)}`
      return Effect.map(upstream.request({ method: "POST", path: `${path(ref)}/${operation}`, idempotencyKey, onReplay: invocation.onReplay, schema: SoftwareOneAccount }), (answer) => {
        const account = read(answer)
        const at = new Date()
        // SoftwareOne keeps no run record: the id is made here.
        const run = toldRun({ id: `wfr_${randomAlphanumeric(24)}`, account, actionId: null, actionName: operation, parameters: {}, invocation, idempotencyKey, startedAt: at, finishedAt: at })
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
                return { items: page.data.map(read), next: page.data.length < size ? null : String(offset + page.data.length), prev: offset > 0 ? String(Math.max(0, offset - size)) : null }
              }
            ),
      search: () => unsupported("searching accounts"),
      get: (ref) => Effect.map(upstream.request({ method: "GET", path: path(ref), schema: SoftwareOneAccount }), read),
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
      getType,
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
