/** Handlers of the Persona-compatible surface: wire → Accounts port → wire. */
import {
  AcctApi,
  commaList,
  CurrentPrincipal,
  flatAttributesOf,
  inflectKey,
  OWN_PATH_IDS,
  OwnPathIds,
  PathIds,
  PersonaErrors,
  toAccountActionResource,
  toAccountResource,
  toAccountTypeResource,
  toAccountTypeWithMeta,
  toImporterResource,
  toImportRowErrorResource,
  toWorkflowRunResource
} from "@acct/api"
import {
  type Account,
  type AccountId,
  Accounts,
  type AccountsError,
  type AccountsService,
  type AccountType,
  Conflict,
  flatAttributeName,
  flatAttributesToFields,
  formatIssues,
  InvalidRequest,
  type Invocation,
  type Issue,
  issuesOf,
  type LifecycleOperation,
  mergeAttributeFields,
  parseAccountRef,
  parseSearchQuery,
  parseSearchSort,
  renameIssuePaths,
  requireAllowed,
  tagNameOf,
  Unprocessable
} from "@acct/core"
import { HttpApiBuilder, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Either, Layer, Schema } from "effect"
import { BackendIds } from "@acct/backend"
import { httpInvocation, requireRead } from "./request-context.js"

const invocation = Effect.flatMap(CurrentPrincipal, httpInvocation)

/**
 * An account document as the mappers built it, answered as it is: its encoded form is its JSON
 * (packages/api/test/encoding.test.ts), so HttpApi's own pass through `Schema.encode` (a walk
 * over every typed field value, on every request) would only repeat it. The endpoint's declared
 * schema still documents it in the OpenAPI, and the Persona tests validate what is sent.
 */
const asIs = (status = 200) => (document: object) => HttpServerResponse.unsafeJson(document, { status })

/** Runs a use of the port and answers its failures in Persona's error format. */
export const persona = <A, R>(effect: Effect.Effect<A, AccountsError, R>) => Effect.mapError(effect, PersonaErrors.toPersonaError)

type IssuePath = ReadonlyArray<string | number>

/**
 * A use of the port whose refusals name each field as the request did (`rename` says where
 * each of the store's paths came from): the store says `status: expected one of …`, the caller
 * sent `data.attributes.account-status`.
 */
const namedAsSent = <A, R>(effect: Effect.Effect<A, AccountsError, R>, rename: (path: IssuePath) => IssuePath) =>
  Effect.mapError(effect, (error) => renameIssuePaths(error, rename))

/**
 * The fields Persona's flat attributes set, by field path (`name.first`), each with the
 * attribute that set it (`name-first`, through the type's catalog mapping).
 */
const flatSources = (type: AccountType, attributes: Readonly<Record<string, unknown>>): ReadonlyMap<string, string> =>
  new Map(
    Object.keys(flatAttributesOf(attributes)).flatMap((key) => {
      const name = flatAttributeName(key)
      const target = name === undefined ? undefined : type.attributes?.[name]
      return target === undefined ? [] : [[target, key] as const]
    })
  )

/**
 * An account body's names for the store's paths: `status` is `data.attributes.account-status`;
 * a field a flat attribute set is that attribute (`fields.email_address` ← `email-address`,
 * through `type`'s mapping, looked up only for a refusal), any other field is under
 * `data.attributes.fields`.
 */
const inAccountBody = (type: AccountType | undefined, attributes: Readonly<Record<string, unknown>>) => (path: IssuePath): IssuePath => {
  const [first, ...rest] = path
  if (first === "fields" && type !== undefined) {
    const flat = flatSources(type, attributes)
    for (let n = rest.length; n > 0; n--) {
      const attribute = flat.get(rest.slice(0, n).join("."))
      if (attribute !== undefined) return ["data", "attributes", attribute, ...rest.slice(n)]
    }
  }
  if (first === "status") return ["data", "attributes", "account-status", ...rest]
  return first === "reference-id" || first === "fields" || first === "tags" ? ["data", "attributes", first, ...rest] : path
}

/** add-tag / remove-tag: the one tag, at tag-name or at tag-id, whichever the request gave. */
const singleTagAt = (meta: { readonly "tag-name"?: string | undefined }) => (path: IssuePath): IssuePath =>
  path[0] === "add" || path[0] === "remove" ? ["meta", meta["tag-name"] !== undefined ? "tag-name" : "tag-id"] : path

/**
 * set-tags: the names first, then the tags the ids stand for (tagsOf), as the store got them;
 * the list as a whole (too many tags) is the request's meta.
 */
const setTagsAt = (meta: { readonly "tag-name"?: ReadonlyArray<string> | undefined }) => (path: IssuePath): IssuePath => {
  const names = meta["tag-name"]?.length ?? 0
  if (path[0] !== "tags") return path
  if (typeof path[1] !== "number") return ["meta", ...path.slice(1)]
  return path[1] < names ? ["meta", "tag-name", path[1], ...path.slice(2)] : ["meta", "tag-id", path[1] - names, ...path.slice(2)]
}

/** change-tags: `add[i]` / `remove[i]` are meta.add-tags[i] / meta.remove-tags[i]. */
const changeTagsAt = (path: IssuePath): IssuePath =>
  path[0] === "add" ? ["meta", "add-tags", ...path.slice(1)] : path[0] === "remove" ? ["meta", "remove-tags", ...path.slice(1)] : path

const fromEither = <A, E>(either: Either.Either<A, E>) => Either.match(either, { onLeft: Effect.fail, onRight: Effect.succeed })

const unprocessable = (issues: ReadonlyArray<Issue>) => Unprocessable.fromIssues(issues)

const decodeOwnPath = Schema.decodeUnknownEither(OwnPathIds)

const isOwnPath = (params: Readonly<Record<string, string | undefined>>) =>
  Object.entries(params).every(([name, id]) => id === undefined || !(name in OWN_PATH_IDS) || OWN_PATH_IDS[name as keyof typeof OWN_PATH_IDS].is(id))

/**
 * The Persona routes' path ids checked as this server's records are made (@acct/api `PathIds`).
 * The paths take any id an upstream may make, so that a gateway can name its upstream's
 * records; on acct's own store any other is refused in the words the path's decoder would use.
 * On every request: the ids' own pattern tests first, the schema's words only for a refusal.
 */
export const PathIdsLive = Layer.effect(
  PathIds,
  Effect.map(BackendIds, (owner) =>
    owner === "upstream"
      ? Effect.void
      : Effect.flatMap(HttpRouter.RouteContext, ({ params }) =>
          isOwnPath(params)
            ? Effect.void
            : Either.match(decodeOwnPath(params), {
                onLeft: (error) => Effect.fail(new PersonaErrors.BadRequest({ errors: [{ title: "Bad Request", details: formatIssues(issuesOf(error)) }] })),
                onRight: () => Effect.void
              })
        )
  )
)

/**
 * The account document answered as it is (status given: 201 for a create, 202 for a
 * consolidation), with `included` when `?include=account-type` asks for its type.
 */
const accountDocument = (accounts: AccountsService, account: Account, urlParams: { readonly include?: string | undefined }, status = 200) =>
  commaList(urlParams.include).some((path) => inflectKey(path, "kebab") === "account-type")
    ? Effect.map(accounts.getType(account.accountTypeId), (type) => asIs(status)({ data: toAccountResource(account), included: [toAccountTypeResource(type)] }))
    : Effect.succeed(asIs(status)({ data: toAccountResource(account) }))

/**
 * The type a create request is for: the one it names (an unknown one is a 422, as Persona's spec
 * documents for this operation, not a 404), else the catalog's default type.
 */
const typeForCreate = (accounts: AccountsService, named: string | undefined) =>
  named !== undefined
    ? Effect.catchTag(accounts.getType(named), "NotFound", () =>
        Effect.fail(unprocessable([{ path: ["data", "attributes", "account-type-id"], message: `no account type ${JSON.stringify(named)}` }]))
      )
    : Effect.flatMap(accounts.listTypes(), (types) => {
        const defaults = types.filter((t) => t.default === true).sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime())
        return defaults[0]
          ? Effect.succeed(defaults[0])
          : Effect.fail(unprocessable([{ path: ["data", "attributes", "account-type-id"], message: "is required: the catalog names no default account type" }]))
      })

/** `fields` together with the fields Persona's flat attributes set (the type's catalog mapping). */
const fieldsFor = (type: AccountType, attributes: { readonly fields?: Readonly<Record<string, unknown>> | undefined }) => {
  const flat = flatAttributesOf(attributes)
  if (Object.keys(flat).length === 0) return Effect.succeed(attributes.fields)
  return fromEither(
    flatAttributesToFields(type.attributes, flat, ["data", "attributes"]).pipe(
      Either.flatMap((fromAttributes) => mergeAttributeFields(attributes.fields ?? {}, fromAttributes, ["data", "attributes", "fields"])),
      Either.mapLeft(unprocessable)
    )
  )
}

/** A tag named by `tag-name` or by `tag-id` (one of them, or both naming the same tag). */
const tagOf = (meta: { readonly "tag-name"?: string | undefined; readonly "tag-id"?: string | undefined }) =>
  Effect.gen(function* () {
    const byId = meta["tag-id"] === undefined ? undefined : yield* fromEither(tagNameOf(meta["tag-id"], "meta.tag-id"))
    const name = meta["tag-name"] ?? byId
    if (name === undefined) return yield* new InvalidRequest({ message: "meta: give the tag as tag-name or as tag-id" })
    if (byId !== undefined && byId !== name) return yield* new InvalidRequest({ message: "meta: tag-name and tag-id name different tags; give one of them" })
    return name
  })

/** The tags set-tags sets: the names and the tags the ids stand for. */
const tagsOf = (meta: { readonly "tag-name"?: ReadonlyArray<string> | undefined; readonly "tag-id"?: ReadonlyArray<string> | undefined }) =>
  Effect.gen(function* () {
    if (meta["tag-name"] === undefined && meta["tag-id"] === undefined) return yield* new InvalidRequest({ message: "meta: give the tags as tag-name and/or tag-id (lists)" })
    const byId = yield* Effect.forEach(meta["tag-id"] ?? [], (id, i) => fromEither(tagNameOf(id, `meta.tag-id[${i}]`)))
    return [...(meta["tag-name"] ?? []), ...byId]
  })

/**
 * `filter[reference-id]`: one reference id, or a comma-separated list (Persona's `ref_123,ref_456`).
 * A reference id may itself hold a comma, so a list also matches the whole value.
 */
const referenceIdFilter = (value: string | undefined) => {
  if (value === undefined || !value.includes(",")) return value
  return [...new Set([value, ...commaList(value)])]
}

/**
 * Create, or with `meta.upsert-by: reference-id` update the account that has the reference id
 * (200; a create is 201). Losing a race to a concurrent create of the same reference id turns
 * into the update.
 */
const createOrUpsert = (
  accounts: AccountsService,
  type: AccountType,
  input: { readonly referenceId: string | undefined; readonly status: string | undefined; readonly fields: Readonly<Record<string, unknown>> | undefined; readonly tags: ReadonlyArray<string> | undefined },
  upsert: boolean,
  inv: Invocation
): Effect.Effect<{ readonly account: Account; readonly created: boolean }, AccountsError> => {
  const create = Effect.map(accounts.create({ accountType: type.id, ...input }, inv), (account) => ({ account, created: true }))
  if (!upsert) return create
  const referenceId = input.referenceId
  if (referenceId === undefined) return Effect.fail(new InvalidRequest({ message: "meta.upsert-by: reference-id needs data.attributes.reference-id" }))
  const update = (existing: Account) =>
    existing.accountTypeId !== type.id
      ? Effect.fail(new Conflict({ message: `the account with reference id ${JSON.stringify(referenceId)} is a ${existing.accountTypeName}, not a ${type.name}` }))
      : Effect.map(accounts.update({ id: existing.id }, { fields: input.fields, status: input.status, tags: input.tags }, inv), (account) => ({ account, created: false }))
  const existing: Effect.Effect<Account | undefined, AccountsError> = accounts.get({ referenceId }).pipe(Effect.catchTag("NotFound", () => Effect.succeed(undefined)))
  return Effect.flatMap(existing, (found) =>
    found !== undefined
      ? update(found)
      : Effect.catchTag(create, "Conflict", (error) => Effect.flatMap(existing, (raced) => (raced !== undefined ? update(raced) : Effect.fail(error))))
  )
}

/** The file of a JSON import request: base64 (line breaks allowed), as UTF-8 text. */
const fromBase64 = (data: string) => {
  const compact = data.replace(/\s+/g, "")
  return /^[A-Za-z0-9+/]*={0,2}$/.test(compact) && compact.length % 4 !== 1
    ? Effect.succeed(Buffer.from(compact, "base64").toString("utf8"))
    : Effect.fail(new InvalidRequest({ message: "data.attributes.file.data: expected the file base64-encoded", issues: [{ path: ["data", "attributes", "file", "data"], message: "not base64" }] }))
}

/** `links.prev` / `links.next` for a page: the same query, another cursor. */
export const pageLinks = (request: HttpServerRequest.HttpServerRequest, page: { readonly next: string | null; readonly prev: string | null }) => {
  const link = (name: "after" | "before", cursor: string | null) => {
    if (cursor === null) return null
    const url = new URL(request.url, "http://acct")
    url.searchParams.delete("page[after]")
    url.searchParams.delete("page[before]")
    url.searchParams.set(`page[${name}]`, cursor)
    return `${url.pathname}?${url.searchParams.toString()}`
  }
  return { prev: link("before", page.prev), next: link("after", page.next) }
}

export const PersonaLive = HttpApiBuilder.group(AcctApi, "persona", (handlers) =>
  Effect.gen(function* () {
    const accounts = yield* Accounts
    const owner = yield* BackendIds
    const lifecycle = (operation: LifecycleOperation) => ({ path }: { readonly path: { readonly accountId: AccountId } }) =>
      persona(
        Effect.gen(function* () {
          const { account, run } = yield* accounts.lifecycle({ id: path.accountId }, operation, yield* invocation)
          return asIs()({ data: toAccountResource(account), meta: { "workflow-run-id": run.id } })
        })
      )
    const relationChange = (operation: "addRelation" | "removeRelation", accountId: AccountId, meta: { readonly "relation-schema-key": string; readonly "target-object-id": string }) =>
      persona(
        Effect.gen(function* () {
          const account = yield* accounts[operation]({ id: accountId }, { key: meta["relation-schema-key"], target: { id: meta["target-object-id"] as AccountId } }, yield* invocation)
          return asIs()({ data: toAccountResource(account) })
        })
      )
    return handlers
      .handle("listAccounts", ({ urlParams }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            const request = yield* HttpServerRequest.HttpServerRequest
            const page = yield* accounts.list({
              after: urlParams["page[after]"],
              before: urlParams["page[before]"],
              size: urlParams["page[size]"],
              referenceId: referenceIdFilter(urlParams["filter[reference-id]"]),
              status: urlParams["filter[account-status]"],
              tag: urlParams["filter[tag]"],
              accountType: urlParams["filter[account-type-id]"]
            })
            return asIs()({ data: page.items.map(toAccountResource), links: pageLinks(request, page) })
          })
        )
      )
      .handle("searchAccounts", ({ payload, urlParams }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            const request = yield* HttpServerRequest.HttpServerRequest
            const query = payload.query === undefined ? undefined : yield* parseSearchQuery(payload.query)
            const sort = payload.sort === undefined ? undefined : yield* parseSearchSort(payload.sort)
            // links.next / links.prev carry the cursor in the URL, to be posted with the original body.
            const cursorInUrl = urlParams["page[after]"] !== undefined || urlParams["page[before]"] !== undefined
            const page = yield* accounts.search({
              query,
              sort,
              after: cursorInUrl ? urlParams["page[after]"] : payload.page?.after,
              before: cursorInUrl ? urlParams["page[before]"] : payload.page?.before,
              size: urlParams["page[size]"] ?? payload.page?.size
            })
            return { data: page.items.map(toAccountResource), links: pageLinks(request, page) }
          })
        )
      )
      .handle("createAccount", ({ payload, urlParams }) =>
        persona(
          Effect.gen(function* () {
            const a = payload.data.attributes
            // Refused callers learn nothing about the catalog from the type lookup.
            yield* Effect.flatMap(CurrentPrincipal, (principal) => requireAllowed(principal, "create"))
            const type = yield* typeForCreate(accounts, a["account-type-id"])
            const input = { referenceId: a["reference-id"], status: a["account-status"], fields: yield* fieldsFor(type, a), tags: a.tags ?? undefined }
            const { account, created } = yield* namedAsSent(
              createOrUpsert(accounts, type, input, payload.meta?.["upsert-by"] === "reference-id", yield* invocation),
              inAccountBody(type, a)
            )
            // An upsert that updated answers 200.
            return yield* accountDocument(accounts, account, urlParams, created ? 201 : 200)
          })
        )
      )
      .handle("getAccount", ({ path, urlParams }) =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return yield* accountDocument(accounts, yield* accounts.get({ id: path.accountId }), urlParams)
        }))
      )
      .handle("updateAccount", ({ path, payload, urlParams }) =>
        persona(
          Effect.gen(function* () {
            const a = payload.data.attributes
            // Flat attributes need the account's type (its mapping) before the change.
            yield* Effect.flatMap(CurrentPrincipal, (principal) => requireAllowed(principal, "update"))
            const type = Object.keys(flatAttributesOf(a)).length === 0 ? undefined : yield* accounts.getType((yield* accounts.get({ id: path.accountId })).accountTypeId)
            const fields = type === undefined ? a.fields : yield* fieldsFor(type, a)
            const account = yield* namedAsSent(
              accounts.update({ id: path.accountId }, { referenceId: a["reference-id"], fields, status: a["account-status"], tags: a.tags === null ? [] : a.tags }, yield* invocation),
              inAccountBody(type, a)
            )
            return yield* accountDocument(accounts, account, urlParams)
          })
        )
      )
      .handle("redactAccount", ({ path, urlParams }) =>
        persona(Effect.flatMap(Effect.flatMap(invocation, (inv) => accounts.redact({ id: path.accountId }, inv)), (a) => accountDocument(accounts, a, urlParams)))
      )
      .handle("addTag", ({ path, payload, urlParams }) =>
        persona(Effect.gen(function* () {
          const account = yield* namedAsSent(accounts.addTag({ id: path.accountId }, yield* tagOf(payload.meta), yield* invocation), singleTagAt(payload.meta))
          return yield* accountDocument(accounts, account, urlParams)
        }))
      )
      .handle("removeTag", ({ path, payload, urlParams }) =>
        persona(Effect.gen(function* () {
          const account = yield* namedAsSent(accounts.removeTag({ id: path.accountId }, yield* tagOf(payload.meta), yield* invocation), singleTagAt(payload.meta))
          return yield* accountDocument(accounts, account, urlParams)
        }))
      )
      .handle("setTags", ({ path, payload, urlParams }) =>
        persona(Effect.gen(function* () {
          const account = yield* namedAsSent(accounts.setTags({ id: path.accountId }, yield* tagsOf(payload.meta), yield* invocation), setTagsAt(payload.meta))
          return yield* accountDocument(accounts, account, urlParams)
        }))
      )
      .handle("changeTags", ({ path, payload, urlParams }) =>
        persona(Effect.gen(function* () {
          const changes = { add: payload.meta["add-tags"] ?? [], remove: payload.meta["remove-tags"] ?? [] }
          const account = yield* namedAsSent(accounts.changeTags({ id: path.accountId }, changes, yield* invocation), changeTagsAt)
          return yield* accountDocument(accounts, account, urlParams)
        }))
      )
      .handle("listRelations", ({ path, urlParams }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            const request = yield* HttpServerRequest.HttpServerRequest
            const page = yield* accounts.listRelations({ id: path.accountId }, {
              key: urlParams["filter[key]"],
              createdAtStart: urlParams["filter[created-at-start]"],
              createdAtEnd: urlParams["filter[created-at-end]"],
              after: urlParams["page[after]"],
              before: urlParams["page[before]"],
              size: urlParams["page[size]"]
            })
            return { data: page.items.map(toAccountResource), links: pageLinks(request, page) }
          })
        )
      )
      .handle("addRelation", ({ path, payload }) => relationChange("addRelation", path.accountId, payload.meta))
      .handle("removeRelation", ({ path, payload }) => relationChange("removeRelation", path.accountId, payload.meta))
      .handle("consolidateAccounts", ({ path, payload, urlParams }) =>
        persona(
          Effect.gen(function* () {
            const sources = yield* Effect.forEach(payload.meta["source-account-ids"], (id, i) => fromEither(parseAccountRef(id, owner, ["meta", "source-account-ids", i])))
            const account = yield* accounts.consolidate({ id: path.accountId }, sources, yield* invocation)
            return yield* accountDocument(accounts, account, urlParams, 202)
          })
        )
      )
      .handle("runAction", ({ path, payload }) =>
        persona(
          Effect.gen(function* () {
            const { account, run } = yield* accounts.runAction({ id: path.accountId }, payload.data["account-action-id"], payload.data.parameters ?? {}, yield* invocation)
            return asIs()({ data: toAccountResource(account), meta: { "workflow-run-id": run.id } })
          })
        )
      )
      .handle("enable", lifecycle("enable"))
      .handle("disable", lifecycle("disable"))
      .handle("activate", lifecycle("activate"))
      .handle("deactivate", lifecycle("deactivate"))
      .handle("importAccounts", ({ payload, urlParams }) =>
        persona(
          Effect.gen(function* () {
            const csv = yield* fromBase64(payload.data.attributes.file.data)
            const importer = yield* accounts.importAccounts({ csv, accountType: urlParams["account-type-id"] }, yield* invocation).pipe(
              // Persona documents no 404 here: an unknown type is a request it cannot process.
              Effect.catchTag("NotFound", (e) => Effect.fail(new Unprocessable({ message: `account-type-id: ${e.message}`, issues: [{ path: ["account-type-id"], message: "unknown account type" }] })))
            )
            return { data: toImporterResource(importer) }
          })
        )
      )
      .handle("listImporters", ({ urlParams }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            const request = yield* HttpServerRequest.HttpServerRequest
            const page = yield* accounts.listImporters({ after: urlParams["page[after]"], before: urlParams["page[before]"], size: urlParams["page[size]"] })
            return { data: page.items.map(toImporterResource), links: pageLinks(request, page) }
          })
        )
      )
      .handle("getImporter", ({ path }) =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: toImporterResource(yield* accounts.getImporter(path.importerId)) }
        }))
      )
      .handle("listImporterErrors", ({ path, urlParams }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            const request = yield* HttpServerRequest.HttpServerRequest
            const importer = yield* accounts.getImporter(path.importerId)
            const page = yield* accounts.listImportErrors(path.importerId, { after: urlParams["page[after]"], size: urlParams["page[size]"] })
            return { data: page.items.map(toImportRowErrorResource), links: pageLinks(request, page), meta: { "row-count": importer.rowCount, "account-type-id": importer.accountTypeId } }
          })
        )
      )
      .handle("getAccountType", ({ path }) =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: toAccountTypeResource(yield* accounts.getType(path.accountTypeId)) }
        }))
      )
      .handle("listAccountTypes", () =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: (yield* accounts.listTypes()).map(toAccountTypeWithMeta) }
        }))
      )
      .handle("listAccountActions", ({ urlParams }) =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: (yield* accounts.listActions({ accountType: urlParams["filter[account-type-id]"] })).map(toAccountActionResource) }
        }))
      )
      .handle("getAccountAction", ({ path }) =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: toAccountActionResource(yield* accounts.getAction(path.accountActionId)) }
        }))
      )
      .handle("listWorkflowRuns", ({ urlParams }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            const request = yield* HttpServerRequest.HttpServerRequest
            const account = urlParams["filter[account-id]"]
            // A filter that matches no account lists nothing (Persona documents no 404 here).
            const page = yield* accounts.listRuns({
              after: urlParams["page[after]"],
              before: urlParams["page[before]"],
              size: urlParams["page[size]"],
              account: account === undefined ? undefined : yield* fromEither(parseAccountRef(account, owner, ["filter[account-id]"]))
            }).pipe(Effect.catchIf((e) => e._tag === "NotFound" && e.entity === "account", () => Effect.succeed({ items: [], next: null, prev: null })))
            return { data: page.items.map(toWorkflowRunResource), links: pageLinks(request, page) }
          })
        )
      )
      .handle("getWorkflowRun", ({ path }) =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: toWorkflowRunResource(yield* accounts.getRun(path.workflowRunId)) }
        }))
      )
  })
)
