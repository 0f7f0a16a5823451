/**
 * The Accounts port on Persona's REST API (version 2025-12-08): accounts, tags, redaction,
 * consolidation and account actions. Persona has no lifecycle operations of its own, so
 * enable/disable/activate/deactivate run the account actions the profile maps them to. Its
 * answers are read leniently (Persona may add attributes); its errors become typed errors.
 */
import { fromAccountResource, fromImporterResource, fromPersonaFieldSchema, ImporterResource, PERSONA_VERSIONS, referenceIdFilter, toCreateAccountAttributes, toSearchBody, toUpdateAccountAttributes } from "@acct/api"
import {
  AccountAction,
  AccountActionId,
  AccountId,
  type AccountRef,
  Accounts,
  type AccountsService,
  AccountType,
  AccountTypeId,
  type ActionRun,
  ActionRunId,
  FieldValue,
  type Invocation,
  InvalidRequest,
  readImportFile,
  type LifecycleMapping,
  type LifecycleOperation,
  NotFound,
  randomAlphanumeric,
  type RetryPolicy,
  transition
} from "@acct/core"
import type { HttpClient } from "@effect/platform"
import { Cache, Duration, Effect, Exit, Layer, Option, Schema } from "effect"
import { pageFromLinks } from "../page-links.js"
import { changeTagsOver } from "../tag-changes.js"
import { toldRun } from "../told-run.js"
import { makeUpstream } from "./transport.js"

export const PERSONA_API = "https://api.withpersona.com/api/v1"
/** The API version this provider speaks: the one acct implements (the vendored spec's). */
export const PERSONA_VERSION = PERSONA_VERSIONS[0]

/** An account action (and its fixed parameters) standing in for a lifecycle operation. */
export interface ActionMapping {
  readonly action: string
  readonly parameters?: Readonly<Record<string, unknown>> | undefined
}

export interface PersonaOptions {
  /** Default Persona's production API, https://api.withpersona.com/api/v1 */
  readonly baseUrl?: string | undefined
  readonly apiKey: string
  readonly timeout?: Duration.DurationInput | undefined
  /** Account action names → `accac_…` ids, so commands can name actions. */
  readonly actions?: Readonly<Record<string, string>> | undefined
  /** Which account action carries out each lifecycle operation. */
  readonly lifecycle?: { readonly [K in LifecycleOperation]?: ActionMapping | undefined } | undefined
  /**
   * Which of Persona's status names is each lifecycle state. Persona's account types have
   * statuses but no lifecycle, so without this acct cannot say whether an account is Active,
   * Enabled or Disabled (SoftwareOne's model, the lifecycle rules).
   */
  readonly states?: LifecycleMapping | undefined
}

// ---- Persona's documents, read leniently --------------------------------------------------

const Nullable = <A, I>(schema: Schema.Schema<A, I>) => Schema.optionalWith(Schema.NullOr(schema), { default: () => null })

// Persona's ids are Persona's to define (core ids.ts `IdOwner`): kept as it made them.
const PersonaAccount = Schema.Struct({
  type: Schema.Literal("account"),
  id: AccountId.upstream,
  attributes: Schema.Struct({
    "reference-id": Nullable(Schema.String),
    "account-type-name": Schema.optionalWith(Schema.String, { default: () => "" }),
    "created-at": Schema.String,
    "updated-at": Schema.NullishOr(Schema.String),
    "redacted-at": Nullable(Schema.String),
    fields: Schema.optionalWith(Schema.Record({ key: Schema.String, value: FieldValue }), { default: () => ({}) }),
    tags: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
    "account-status": Schema.optionalWith(Schema.String, { default: () => "" })
  }),
  relationships: Schema.Struct({
    "account-type": Schema.Struct({ data: Schema.Struct({ type: Schema.Literal("account-type"), id: AccountTypeId.upstream }) })
  })
})
const AccountDocument = Schema.Struct({ data: PersonaAccount })
const AccountPage = Schema.Struct({
  data: Schema.Array(PersonaAccount),
  links: Schema.optionalWith(Schema.Struct({ prev: Nullable(Schema.String), next: Nullable(Schema.String) }), { default: () => ({ prev: null, next: null }) })
})
const RunActionDocument = Schema.Struct({ data: PersonaAccount, meta: Schema.Struct({ "workflow-run-id": ActionRunId.upstream }) })
const WorkflowRunDocument = Schema.Struct({
  data: Schema.Struct({
    id: ActionRunId.upstream,
    attributes: Schema.Struct({
      status: Schema.String,
      "created-at": Schema.optional(Schema.String),
      "completed-at": Schema.NullishOr(Schema.String)
    })
  })
})
/** How an id is told from a name: Persona's carry their kind's prefix, then Persona's own choice. */
const isActionId = AccountActionId.isOf("upstream")
const isTypeId = AccountTypeId.isOf("upstream")

/** An answer whose content is not needed (Persona's 202 to a consolidation). */
const Anything = Schema.Unknown

const toAccount = (r: typeof PersonaAccount.Type) =>
  fromAccountResource({ ...r, attributes: { ...r.attributes, "updated-at": r.attributes["updated-at"] ?? r.attributes["created-at"] } })


/** Persona's workflow-run statuses in acct's terms; anything not finished is `running`. */
const runStatus = (status: string): ActionRun["status"] =>
  ["completed", "succeeded", "approved"].includes(status) ? "succeeded" : ["failed", "canceled", "cancelled", "errored", "declined"].includes(status) ? "failed" : "running"

/** A time Persona gave, if it can be read, else `fallback`. */
const timeOr = (text: string | null | undefined, fallback: Date): Date => (text != null && !Number.isNaN(Date.parse(text)) ? new Date(text) : fallback)

const notOnPersona = (what: string) =>
  Effect.fail(new InvalidRequest({ message: `${what} is not available from Persona's API; use Persona's dashboard, or a local or remote acct profile` }))

/** Persona's spec requires none of an account type's attributes: each has a default here. */
const PersonaFieldSchema = Schema.Struct({
  type: Schema.String,
  key: Schema.String,
  label: Nullable(Schema.String),
  config: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Unknown }), { default: () => ({}) })
})
const AccountTypeDocument = Schema.Struct({
  data: Schema.Struct({
    id: Schema.String,
    attributes: Schema.Struct({
      name: Schema.optionalWith(Schema.String, { default: () => "" }),
      "created-at": Schema.optionalWith(Schema.String, { default: () => new Date(0).toISOString() }),
      "updated-at": Nullable(Schema.String),
      "field-schemas": Schema.optionalWith(Schema.Array(PersonaFieldSchema), { default: () => [] })
    })
  })
})

const ImporterDocument = Schema.Struct({ data: ImporterResource })
// Persona lists importers of every kind (names, emails, …): only account importers are kept.
const ImporterPage = Schema.Struct({
  data: Schema.Array(Schema.Struct({ type: Schema.String, id: Schema.String, attributes: ImporterResource.fields.attributes })),
  links: Schema.Struct({ prev: Schema.NullOr(Schema.String), next: Schema.NullOr(Schema.String) })
})
const unknownMeta = { "row-count": 0, "account-type-id": "" }

export const makePersonaAccounts = (options: PersonaOptions) =>
  Effect.gen(function* () {
    const persona = yield* makeUpstream({
      name: "Persona",
      baseUrl: options.baseUrl ?? PERSONA_API,
      token: options.apiKey,
      timeout: options.timeout,
      headers: { "persona-version": PERSONA_VERSION, "key-inflection": "kebab" }
    })
    const keyOf = (invocation: Invocation) => invocation.idempotencyKey ?? `acct-${randomAlphanumeric(24)}`
    /** A change's key (the same on its retries), and the caller told when Persona replays it. */
    const keyed = (invocation: Invocation) => ({ idempotencyKey: keyOf(invocation), onReplay: invocation.onReplay })
    const accountPath = (id: string) => `/accounts/${encodeURIComponent(id)}`

    const resolveId = (ref: AccountRef) => ("id" in ref ? Effect.succeed(ref.id as string) : Effect.map(service.get(ref), (a) => a.id as string))

    const change = (ref: AccountRef, invocation: Invocation, method: "POST" | "PATCH" | "DELETE", suffix: string, body?: unknown) =>
      Effect.gen(function* () {
        if (invocation.expectedVersion !== undefined) return yield* new InvalidRequest({ message: "--expect-version is not available on Persona (its accounts carry no version)" })
        const id = yield* resolveId(ref)
        const document = yield* persona.request({ method, path: `${accountPath(id)}${suffix}`, body, ...keyed(invocation), schema: AccountDocument })
        return toAccount(document.data)
      })

    const actionIdOf = (action: string) => {
      if (isActionId(action)) return Effect.succeed(action)
      const id = options.actions?.[action]
      return id !== undefined && isActionId(id)
        ? Effect.succeed(id)
        : Effect.fail(new InvalidRequest({ message: `no account action named ${JSON.stringify(action)} in this profile; use its accac_… id, or add it under \`actions\`` }))
    }

    /**
     * An action as far as the profile knows it: Persona's API does not expose definitions, so no
     * parameter schema (Persona checks the parameters itself) and no steps.
     */
    const knownAction = (name: string, id: AccountActionId) =>
      AccountAction.make(
        { id, name, description: "a Persona account action (its definition lives in Persona)", accountTypeId: "" as never, parameters: [], steps: [] as never, confirm: false, createdAt: new Date(0), updatedAt: new Date(0) },
        true
      )
    const configuredActions = () => Object.entries(options.actions ?? {}).flatMap(([name, id]) => (isActionId(id) ? [knownAction(name, id)] : []))

    /**
     * Persona's account type, with the lifecycle states the profile names (see `states`). Its
     * relation schemas are left out: Persona does not say which type a relation points to. Its
     * field schemas do not say which fields are personal data, so every field counts as such
     * (masked wherever acct shows it: masking fails closed).
     */
    const readType = (id: AccountTypeId, states: LifecycleMapping) =>
      Effect.map(persona.request({ method: "GET", path: `/account-types/${encodeURIComponent(id)}`, schema: AccountTypeDocument }), ({ data }) => {
        const createdAt = new Date(data.attributes["created-at"])
        return AccountType.make(
          {
            id,
            name: data.attributes.name || id,
            description: "a Persona account type",
            fields: data.attributes["field-schemas"].filter((f) => f.type !== "relation-schema").map((f) => ({ ...fromPersonaFieldSchema(f), pii: true })),
            relations: [],
            statuses: [...new Set([states.enabled, states.active, states.disabled])] as [string, ...Array<string>],
            defaultStatus: states.enabled,
            lifecycle: states,
            createdAt,
            updatedAt: data.attributes["updated-at"] === null ? createdAt : new Date(data.attributes["updated-at"])
          },
          // Persona's status names (`Approved`) are not acct's lowercase catalog names.
          true
        )
      })
    /**
     * Types read for a minute: a page of accounts on the SoftwareOne surface, or a lifecycle
     * check, asks for the same type again and again. Failures are not kept.
     */
    const { states } = options
    const types =
      states === undefined
        ? undefined
        : yield* Cache.makeWith({
            capacity: 100,
            lookup: (id: AccountTypeId) => readType(id, states),
            timeToLive: Exit.match({ onSuccess: () => "1 minute", onFailure: () => Duration.zero })
          })
    const getType = (idOrName: string) =>
      !isTypeId(idOrName)
        ? Effect.fail(new InvalidRequest({ message: `on Persona, name the account type by its acttp_… id, got ${JSON.stringify(idOrName)}` }))
        : types === undefined
          ? Effect.fail(
              new InvalidRequest({ message: "Persona's account types do not say which status is active, enabled or disabled; name them in the profile (states: { active: …, enabled: …, disabled: … })" })
            )
          : types.get(idOrName)

    const runAction: AccountsService["runAction"] = (ref, action, parameters, invocation) =>
      Effect.gen(function* () {
        const actionId = yield* actionIdOf(action)
        const accountId = yield* resolveId(ref)
        const idempotencyKey = keyOf(invocation)
        const started = new Date()
        const document = yield* persona.request({
          method: "POST",
          path: `${accountPath(accountId)}/run-action`,
          body: { data: { "account-action-id": actionId, parameters } },
          idempotencyKey,
          onReplay: invocation.onReplay,
          schema: RunActionDocument
        })
        const account = toAccount(document.data)
        // The action has run once Persona answers: nothing after that may fail the change. The
        // run's record is read for its status and times; unreadable (a 404, a date acct cannot
        // read), the run is told from the answer: succeeded, between the call and its answer.
        const answeredAt = new Date()
        const recorded = yield* Effect.option(persona.request({ method: "GET", path: `/workflow-runs/${encodeURIComponent(document.meta["workflow-run-id"])}`, schema: WorkflowRunDocument }))
        const attributes = Option.getOrUndefined(recorded)?.data.attributes
        const run = toldRun({
          id: document.meta["workflow-run-id"],
          account,
          actionId,
          actionName: action,
          parameters,
          invocation,
          idempotencyKey,
          status: attributes ? runStatus(attributes.status) : undefined,
          startedAt: timeOr(attributes?.["created-at"], started),
          finishedAt: timeOr(attributes?.["completed-at"], answeredAt)
        })
        return { account, run }
      })

    const service: AccountsService = {
      list: (q) =>
        q.status !== undefined || q.tag !== undefined || q.accountType !== undefined
          ? Effect.fail(new InvalidRequest({ message: "Persona filters accounts by reference id only (not by status, tag or type)" }))
          : Effect.map(
              persona.request({
                method: "GET",
                path: "/accounts",
                urlParams: { "page[after]": q.after, "page[before]": q.before, "page[size]": q.size, "filter[reference-id]": referenceIdFilter(q.referenceId) },
                schema: AccountPage
              }),
              (page) => pageFromLinks(page.data.map(toAccount), page.links)
            ),
      // Persona's own search: the same query language; Persona checks it against its catalog.
      search: (q) => Effect.map(persona.request({ method: "POST", path: "/accounts/search", body: toSearchBody(q), schema: AccountPage }), (page) => pageFromLinks(page.data.map(toAccount), page.links)),
      get: (ref) =>
        "id" in ref
          ? Effect.map(persona.request({ method: "GET", path: accountPath(ref.id), schema: AccountDocument }), (d) => toAccount(d.data))
          : Effect.flatMap(persona.request({ method: "GET", path: "/accounts", urlParams: { "filter[reference-id]": ref.referenceId }, schema: AccountPage }), (page) =>
              page.data[0]
                ? Effect.succeed(toAccount(page.data[0]))
                : Effect.fail(new NotFound({ entity: "account", ref: ref.referenceId, message: `no account with reference id ${JSON.stringify(ref.referenceId)} on Persona` }))
            ),
      create: (input, invocation) =>
        Effect.gen(function* () {
          if (!isTypeId(input.accountType)) return yield* new InvalidRequest({ message: `on Persona, name the account type by its acttp_… id, got ${JSON.stringify(input.accountType)}` })
          const document = yield* persona.request({
            method: "POST",
            path: "/accounts",
            body: { data: { attributes: toCreateAccountAttributes(input, input.accountType) } },
            ...keyed(invocation),
            schema: AccountDocument
          })
          return toAccount(document.data)
        }),
      update: (ref, input, invocation) =>
        input.referenceId === null
          ? Effect.fail(new InvalidRequest({ message: "Persona cannot clear a reference id" }))
          : change(ref, invocation, "PATCH", "", { data: { attributes: toUpdateAccountAttributes(input) } }),
      redact: (ref, invocation) => change(ref, invocation, "DELETE", ""),
      addTag: (ref, tag, invocation) => change(ref, invocation, "POST", "/add-tag", { meta: { "tag-name": tag } }),
      removeTag: (ref, tag, invocation) => change(ref, invocation, "POST", "/remove-tag", { meta: { "tag-name": tag } }),
      changeTags: (ref, changes, invocation) => changeTagsOver(service)(ref, changes, invocation),
      setTags: (ref, tags, invocation) => change(ref, invocation, "POST", "/set-tags", { meta: { "tag-name": tags } }),
      consolidate: (destination, sources, invocation) =>
        Effect.gen(function* () {
          const ids = yield* Effect.forEach(sources, resolveId)
          const id = yield* resolveId(destination)
          // Persona answers 202: the merge happens in the background; read the destination after.
          yield* persona.request({ method: "POST", path: `${accountPath(id)}/consolidate`, body: { meta: { "source-account-ids": ids } }, ...keyed(invocation), schema: Anything })
          return yield* service.get({ id: id as never })
        }),
      listRelations: (ref, q) =>
        Effect.flatMap(resolveId(ref), (id) =>
          Effect.map(
            persona.request({
              method: "GET",
              path: `${accountPath(id)}/relations`,
              urlParams: {
                "filter[key]": q.key,
                "filter[created-at-start]": q.createdAtStart?.toISOString(),
                "filter[created-at-end]": q.createdAtEnd?.toISOString(),
                "page[after]": q.after,
                "page[before]": q.before,
                "page[size]": q.size
              },
              schema: AccountPage
            }),
            (page) => pageFromLinks(page.data.map(toAccount), page.links)
          )
        ),
      addRelation: (ref, relation, invocation) =>
        Effect.flatMap(resolveId(relation.target), (target) =>
          change(ref, invocation, "POST", "/add-relation", { meta: { "relation-schema-key": relation.key, "target-object-id": target } })
        ),
      removeRelation: (ref, relation, invocation) =>
        Effect.flatMap(resolveId(relation.target), (target) =>
          change(ref, invocation, "POST", "/remove-relation", { meta: { "relation-schema-key": relation.key, "target-object-id": target } })
        ),
      importAccounts: (input, invocation) =>
        Effect.gen(function* () {
          if (input.accountType !== undefined) return yield* new InvalidRequest({ message: "Persona imports into its own default account type; leave the type out" })
          // Checked here first: a file Persona would refuse as a whole is refused without a request.
          const file = readImportFile(input.csv)
          if (file._tag === "Left") return yield* file.left
          const document = yield* persona.request({
            method: "POST",
            path: "/importer/accounts",
            body: { data: { attributes: { file: { data: Buffer.from(input.csv, "utf8").toString("base64"), filename: "accounts.csv" } } } },
            idempotencyKey: keyOf(invocation),
            schema: ImporterDocument
          })
          return fromImporterResource(document.data, { "row-count": file.right.records.length, "account-type-id": "" })
        }),
      // Persona's importer says nothing of the file's size or type: the row count is 0 (unknown).
      getImporter: (id) =>
        Effect.map(persona.request({ method: "GET", path: `/importers/${encodeURIComponent(id)}`, schema: ImporterDocument }), (d) => fromImporterResource(d.data, unknownMeta)),
      listImporters: (q) =>
        Effect.map(
          persona.request({ method: "GET", path: "/importers", urlParams: { "page[after]": q.after, "page[before]": q.before, "page[size]": q.size }, schema: ImporterPage }),
          (page) => pageFromLinks(page.data.flatMap((r) => (r.type === "importer/account" ? [fromImporterResource(r as typeof ImporterResource.Type, unknownMeta)] : [])), page.links)
        ),
      listImportErrors: () => notOnPersona("an importer's row errors"),
      lifecycle: (ref, operation, invocation) =>
        Effect.gen(function* () {
          const mapping = options.lifecycle?.[operation]
          if (mapping === undefined) return yield* new InvalidRequest({ message: `Persona has no "${operation}" operation; map it to an account action in the profile (lifecycle.${operation}.action)` })
          // With the states named, a transition from the wrong state is refused as acct's own
          // lifecycle refuses it, instead of running the action anyway.
          if (types !== undefined) {
            const account = yield* service.get(ref)
            yield* transition(yield* getType(account.accountTypeId), account, operation)
            return yield* runAction({ id: account.id }, mapping.action, mapping.parameters ?? {}, invocation)
          }
          return yield* runAction(ref, mapping.action, mapping.parameters ?? {}, invocation)
        }),
      runAction,
      listTypes: () => notOnPersona("listing account types"),
      getType,
      listActions: () => Effect.succeed(configuredActions()),
      getAction: (idOrName) =>
        Effect.map(actionIdOf(idOrName), (id) => configuredActions().find((a) => a.id === id) ?? knownAction(idOrName, id)),
      listRuns: () => notOnPersona("an account's run history"),
      getRun: () => notOnPersona("reading a past run")
    }
    return service
  })

export const PersonaAccounts = {
  /** Needs an HttpClient and a RetryPolicy. */
  layer: (options: PersonaOptions): Layer.Layer<Accounts, never, HttpClient.HttpClient | RetryPolicy> => Layer.effect(Accounts, makePersonaAccounts(options))
}
