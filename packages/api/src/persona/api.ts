/**
 * The Persona-compatible surface under /api/v1, following Persona's 2025-12-08 OpenAPI file,
 * plus acct's extensions in the same style (types and actions lists, workflow runs).
 */
import { AccountActionId, AccountId, AccountTypeId, ActionRunId, ImporterId } from "@acct/core"
import { HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../security.js"
import { schemas } from "./errors.js"

const { Conflict, NotFound, Unprocessable } = schemas
import { inflectKey } from "./inflection.js"
import {
  AccountActionResource,
  AccountAttributes,
  AccountDocument,
  AccountList,
  AccountTypeResource,
  AccountTypeWithMeta,
  ConsolidateBody,
  CreateAccountBody,
  ImportAccountsBody,
  ImporterDocument,
  ImporterErrorList,
  ImporterResource,
  RelationBody,
  RunActionBody,
  RunActionDocument,
  SearchAccountsBody,
  SetTagsBody,
  ChangeTagsBody,
  TagBody,
  UpdateAccountBody,
  WorkflowRunResource
} from "./resources.js"

/**
 * The ids a path names, as acct's own store makes them. A gateway's are its upstream's (core
 * ids.ts `IdOwner`): the paths take any id an upstream may make, and the embedded server checks
 * a path against these (`PathIds`).
 */
export const OWN_PATH_IDS = { accountId: AccountId, accountTypeId: AccountTypeId, accountActionId: AccountActionId, workflowRunId: ActionRunId, importerId: ImporterId } as const
export const OwnPathIds = Schema.partial(Schema.Struct(OWN_PATH_IDS))

/**
 * Every Persona route's check of the ids in its path, after authentication and before the
 * payload is decoded (where the path's own schema would check them): the server refuses those
 * not made as its records are (apps/server persona.ts `PathIdsLive`).
 */
export class PathIds extends HttpApiMiddleware.Tag<PathIds>()("PathIds", { failure: schemas.BadRequest }) {}
const accountId = HttpApiSchema.param("accountId", AccountId.upstream)
const importerId = HttpApiSchema.param("importerId", ImporterId.upstream)

/** Where Persona's account importer takes files (the server's edge also reads multipart here). */
export const IMPORT_PATH = "/api/v1/importer/accounts"

/** acct's extension header carrying an Invocation's reason across the wire. */
export const REASON_HEADER = "acct-reason"

/** The header's value for a reason (headers are ASCII: the reason travels percent-encoded). */
export const encodeReason = (reason: string) => encodeURIComponent(reason)

/** The reason a header carries; a value that is not valid percent-encoding is kept as sent. */
export const decodeReason = (value: string | undefined): string | undefined => {
  if (value === undefined || value === "") return undefined
  try {
    return decodeURIComponent(value).slice(0, 1000)
  } catch {
    return value.slice(0, 1000)
  }
}

/**
 * acct's extension header naming the person a trusted front end (the Slack app) acts for:
 * `slack:T0123/U0456`. Only a key with the `account.delegate` scope may send it; the person is
 * recorded as the actor, the key as the one they acted through.
 */
export const ON_BEHALF_OF_HEADER = "acct-on-behalf-of"

const PERSON = /^(slack|cli):([\x21-\x7E]{1,200})$/

/** The header's value for a person: `kind:id`, the id percent-encoded except its slashes. */
export const encodeOnBehalfOf = (person: { readonly kind: string; readonly id: string }) => `${person.kind}:${encodeURIComponent(person.id).replace(/%2F/gi, "/")}`

/**
 * The person a header names, or why it names nobody (said for people). The name recorded is
 * `kind:id`: Slack has deprecated user names, and the id is what renders as the person.
 */
export const decodeOnBehalfOf = (value: string): { readonly _tag: "Person"; readonly actor: { readonly kind: "slack" | "cli"; readonly id: string; readonly name: string } } | { readonly _tag: "Invalid"; readonly message: string } => {
  let decoded = value
  try {
    decoded = decodeURIComponent(value)
  } catch {
    // not percent-encoding: checked as sent
  }
  const match = PERSON.exec(decoded.trim())
  if (!match) return { _tag: "Invalid", message: `${ON_BEHALF_OF_HEADER}: expected a person as kind:id with kind slack or cli (e.g. slack:T0123/U0456), got ${JSON.stringify(value.slice(0, 100))}` }
  const kind = match[1] as "slack" | "cli"
  return { _tag: "Person", actor: { kind, id: match[2]!, name: `${kind}:${match[2]!}` } }
}

/** Declared on every mutating endpoint: documents it, and lets the typed client send it. */
export const MutationHeaders = Schema.Struct({
  "idempotency-key": Schema.optional(
    Schema.String.annotations({ description: "Repeat the request safely: the first response is replayed for 24 hours (Idempotent-Replayed: true)." })
  ),
  [REASON_HEADER]: Schema.optional(
    Schema.String.annotations({
      description: "Why this change is made (acct extension), kept in the audit trail beside the actor: percent-encoded UTF-8 (encodeURIComponent), at most 1,000 characters once decoded."
    })
  ),
  [ON_BEHALF_OF_HEADER]: Schema.optional(
    Schema.String.annotations({
      description:
        "The person a trusted front end acts for (acct extension), e.g. `slack:T0123/U0456` (kind `slack` or `cli`, then the id, percent-encoded). Needs a key with the `account.delegate` scope (403 otherwise); the audit entry and the run record the person as the actor and this key as the one they acted through."
    })
  )
})

/** page[size]: 1–100 (Persona's bounds). */
export const PageSize = Schema.NumberFromString.pipe(
  Schema.int({ message: () => "page[size] must be an integer from 1 to 100" }),
  Schema.between(1, 100, { message: () => "page[size] must be an integer from 1 to 100" })
)

/** A comma-separated list, as JSON:API's `include` and `fields[…]` take it. */
export const commaList = (value: string | undefined): ReadonlyArray<string> =>
  value === undefined ? [] : value.split(",").map((item) => item.trim()).filter((item) => item !== "")

/** A comma-separated list of these names (in any key inflection). */
const listOf = (allowed: ReadonlyArray<string>) =>
  Schema.String.pipe(
    Schema.filter((value) =>
      commaList(value).every((item) => allowed.includes(inflectKey(item, "kebab"))) ||
      `expected a comma-separated list of ${allowed.join(", ")}; got ${JSON.stringify(value.slice(0, 100))}`
    )
  )

/** Sparse fieldsets (`fields[account]=tags,account-status`): the attributes of each resource type. */
const SparseFieldsets = {
  "fields[account]": Schema.optional(listOf(Object.keys(AccountAttributes.fields))),
  "fields[account-type]": Schema.optional(listOf(Object.keys(AccountTypeResource.fields.attributes.fields))),
  "fields[account-action]": Schema.optional(listOf(Object.keys(AccountActionResource.fields.attributes.fields))),
  "fields[workflow-run]": Schema.optional(listOf(Object.keys(WorkflowRunResource.fields.attributes.fields)))
}

/** The relationships `include` may name on an account document. */
export const ACCOUNT_INCLUDES = ["account-type"] as const

/**
 * An endpoint's query: its own parameters plus sparse fieldsets (and `include` where Persona's
 * spec offers it). A parameter not declared is a 400 that names it (JSON:API), so a typo such as
 * `filter[acount-status]` is never silently ignored.
 */
const query = <const Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.Struct({ ...fields, ...SparseFieldsets }).annotations({ parseOptions: { onExcessProperty: "error" } })
const withInclude = { include: Schema.optional(listOf(ACCOUNT_INCLUDES)) }
const AccountQuery = query(withInclude)
const PlainQuery = query({})

/** Persona's deep-object query parameters, as flat keys. */
export const ListAccountsParams = query({
  "page[after]": Schema.optional(Schema.String),
  "page[before]": Schema.optional(Schema.String),
  "page[size]": Schema.optional(PageSize),
  "filter[reference-id]": Schema.optional(Schema.String.annotations({ description: "One reference id or several, comma-separated (ref_123,ref_456)." })),
  "filter[account-status]": Schema.optional(Schema.String),
  "filter[tag]": Schema.optional(Schema.String),
  "filter[account-type-id]": Schema.optional(Schema.String)
})

/** The cursor and size of a page, as links.next / links.prev carry them (also for a search's POST). */
export const SearchPageParams = query({
  "page[after]": Schema.optional(Schema.String),
  "page[before]": Schema.optional(Schema.String),
  "page[size]": Schema.optional(PageSize)
})

export const ListPageParams = query({
  "page[after]": Schema.optional(Schema.String),
  "page[before]": Schema.optional(Schema.String),
  "page[size]": Schema.optional(PageSize),
  "filter[account-id]": Schema.optional(Schema.String.annotations({ description: "An account id or reference id; one that matches no account gives an empty list." }))
})

const AccountPath = Schema.Struct({ accountId: AccountId.upstream })

/** `GET /accounts/{id}/relations`: Persona requires `filter[key]`. */
export const ListRelationsParams = query({
  "filter[key]": Schema.String.annotations({ description: "The relation schema key (required)." }),
  "filter[created-at-start]": Schema.optional(Schema.DateFromString.annotations({ description: "Only relations made at or after this time (ISO 8601)." })),
  "filter[created-at-end]": Schema.optional(Schema.DateFromString.annotations({ description: "Only relations made at or before this time (ISO 8601)." })),
  "page[after]": Schema.optional(Schema.String),
  "page[before]": Schema.optional(Schema.String),
  "page[size]": Schema.optional(PageSize)
})

const accountChange = <const Name extends string, P extends Schema.Schema.Any>(name: Name, path: `/accounts/:accountId/${string}`, payload: P, summary: string) =>
  HttpApiEndpoint.post(name, path)
    .setPath(AccountPath)
    .setUrlParams(AccountQuery)
    .setHeaders(MutationHeaders)
    .setPayload(payload)
    .addSuccess(AccountDocument)
    .addError(NotFound)
    .addError(Conflict)
    .addError(Unprocessable)
    .annotate(OpenApi.Summary, summary)

/** acct extension: a lifecycle operation, answered like run-action (the account + its run id). */
const lifecycle = <const Name extends "enable" | "disable" | "activate" | "deactivate">(name: Name, rule: string) =>
  HttpApiEndpoint.post(name, `/accounts/:accountId/${name}`)
    .setPath(AccountPath)
    .setUrlParams(PlainQuery)
    .setHeaders(MutationHeaders)
    .addSuccess(RunActionDocument)
    .addError(NotFound)
    .addError(Conflict)
    .annotate(OpenApi.Summary, `${name[0]!.toUpperCase()}${name.slice(1)} an account (acct extension)`)
    .annotate(OpenApi.Description, `${rule} From any other state: 409 with a detail that says why.`)

export class PersonaApi extends HttpApiGroup.make("persona")
  .add(
    HttpApiEndpoint.get("listAccounts", "/accounts")
      .setUrlParams(ListAccountsParams)
      .addSuccess(AccountList)
      .addError(NotFound)
      .annotate(OpenApi.Summary, "List accounts")
      .annotate(OpenApi.Description, "Newest first. Cursor pagination with page[after] / page[before] (account ids) and page[size] 1–100 (default 10); links.next / links.prev give the neighbouring pages.")
  )
  .add(
    HttpApiEndpoint.post("searchAccounts", "/accounts/search")
      .setUrlParams(SearchPageParams)
      .setPayload(SearchAccountsBody)
      .addSuccess(AccountList)
      .annotate(OpenApi.Summary, "Search accounts")
      .annotate(
        OpenApi.Description,
        "Persona's query language: and / or / not (nested at most 2 deep, at most 20 clauses each) over predicates {attribute, operator, value} with eq, gt, gte, lt, lte. Attributes: type (id or name), status, created_at, updated_at (a date or an ISO 8601 date-time), identifiers.reference_id, tags (acct extension: has the tag) and fields.<key> for fields the account type marks searchable (fields.<hash>.<key> inside a hash). type, status, tags and boolean fields compare with eq only; emails compare in any case. Sort by any of them but tags (default newest first; missing values last). Pages as in the list: page[after|before|size] in the query (as links.next / links.prev give them, to be posted with the same body) or in the body's page. A bad predicate is a 400 naming its path (query.and[1].value) and what was expected. Results are current at once (no indexing delay)."
      )
  )
  .add(
    HttpApiEndpoint.post("createAccount", "/accounts")
      .setUrlParams(AccountQuery)
      .setHeaders(MutationHeaders)
      .setPayload(CreateAccountBody)
      .addSuccess(AccountDocument, { status: 201 })
      .addSuccess(AccountDocument.annotations({ description: "meta.upsert-by found the account and updated it" }), { status: 200 })
      .addError(Conflict)
      .addError(Unprocessable)
      .annotate(OpenApi.Summary, "Create an account")
      .annotate(
        OpenApi.Description,
        "Persona's flat attributes (name-first, email-address, …) set the fields the account type maps them to in the catalog; without account-type-id the catalog's default type is used. An unknown account type is a 422. With meta.upsert-by: reference-id an existing account with that reference id is updated (200) instead."
      )
  )
  .add(HttpApiEndpoint.get("getAccount")`/accounts/${accountId}`.setUrlParams(AccountQuery).addSuccess(AccountDocument).addError(NotFound).annotate(OpenApi.Summary, "Retrieve an account"))
  .add(
    HttpApiEndpoint.patch("updateAccount")`/accounts/${accountId}`
      .setUrlParams(AccountQuery)
      .setHeaders(MutationHeaders)
      .setPayload(UpdateAccountBody)
      .addSuccess(AccountDocument)
      .addError(NotFound)
      .addError(Conflict)
      .addError(Unprocessable)
      .annotate(OpenApi.Summary, "Update an account")
  )
  .add(
    HttpApiEndpoint.del("redactAccount")`/accounts/${accountId}`
      .setUrlParams(AccountQuery)
      .setHeaders(MutationHeaders)
      .addSuccess(AccountDocument)
      .addError(NotFound)
      .addError(Conflict)
      .annotate(OpenApi.Summary, "Redact an account")
      .annotate(OpenApi.Description, "Permanently wipes the account's personal data (every field value) and sets redacted-at. The account itself stays.")
  )
  .add(accountChange("addTag", "/accounts/:accountId/add-tag", TagBody, "Add a tag"))
  .add(accountChange("removeTag", "/accounts/:accountId/remove-tag", TagBody, "Remove a tag"))
  .add(accountChange("setTags", "/accounts/:accountId/set-tags", SetTagsBody, "Set all tags"))
  .add(
    accountChange("changeTags", "/accounts/:accountId/change-tags", ChangeTagsBody, "Add and remove tags in one change (acct extension)").annotate(
      OpenApi.Description,
      "meta.add-tags and meta.remove-tags (lists of tag names) applied together in one transaction: one version step and one audit entry, or nothing. A tag in both lists is a 422. Unlike a read followed by set-tags, a tag change someone makes meanwhile is kept."
    )
  )
  .add(
    HttpApiEndpoint.get("listRelations")`/accounts/${accountId}/relations`
      .setUrlParams(ListRelationsParams)
      .addSuccess(AccountList)
      .addError(NotFound)
      .addError(Unprocessable)
      .annotate(OpenApi.Summary, "Get all relations for an account")
      .annotate(OpenApi.Description, "The accounts this account relates to under filter[key], most recently related first, in cursor pages like the accounts list.")
  )
  .add(accountChange("addRelation", "/accounts/:accountId/add-relation", RelationBody, "Add a relation to an account"))
  .add(accountChange("removeRelation", "/accounts/:accountId/remove-relation", RelationBody, "Remove a relation from an account"))
  .add(
    HttpApiEndpoint.post("consolidateAccounts")`/accounts/${accountId}/consolidate`
      .setUrlParams(AccountQuery)
      .setHeaders(MutationHeaders)
      .setPayload(ConsolidateBody)
      .addSuccess(AccountDocument, { status: 202 })
      .addError(NotFound)
      .addError(Conflict)
      .addError(Unprocessable)
      .annotate(OpenApi.Summary, "Consolidate accounts into this one")
  )
  .add(
    HttpApiEndpoint.post("runAction")`/accounts/${accountId}/run-action`
      .setUrlParams(PlainQuery)
      .setHeaders(MutationHeaders)
      .setPayload(RunActionBody)
      .addSuccess(RunActionDocument)
      .addError(NotFound)
      .addError(Conflict)
      .addError(Unprocessable)
      .annotate(OpenApi.Summary, "Run an account action")
      .annotate(OpenApi.Description, "Runs a configured account action; answers the updated account and meta.workflow-run-id. Account change, run record and audit entry are written together or not at all.")
  )
  .add(lifecycle("enable", "Disabled → Active with a reference (external) id, else Enabled."))
  .add(lifecycle("disable", "Active or Enabled → Disabled."))
  .add(lifecycle("activate", "Enabled → Active; needs a reference (external) id."))
  .add(lifecycle("deactivate", "Active → Enabled."))
  .add(
    HttpApiEndpoint.post("importAccounts", "/importer/accounts")
      .setHeaders(MutationHeaders)
      .setUrlParams(query({ "account-type-id": Schema.optional(Schema.String.annotations({ description: "acct extension: the account type to import into (id or name); default: the catalog's default type" })) }))
      .setPayload(ImportAccountsBody)
      .addSuccess(ImporterDocument, { status: 201 })
      .addError(Conflict)
      .addError(Unprocessable)
      // The multipart form is read at the edge into the JSON form: declared here for clients.
      .annotate(OpenApi.Transform, (operation) => ({
        ...operation,
        requestBody: {
          ...operation.requestBody,
          content: {
            "multipart/form-data": {
              schema: { type: "object", required: ["data[attributes][file]"], properties: { "data[attributes][file]": { type: "string", format: "binary", description: "The CSV file" } } }
            },
            ...operation.requestBody?.content
          }
        }
      }))
      .annotate(OpenApi.Summary, "Import accounts")
      .annotate(
        OpenApi.Description,
        "A CSV file with the columns reference_id (required), name_first, name_middle, name_last, birthdate, social_security_number, tags (comma-separated in one cell). multipart/form-data with the file in data[attributes][file], or JSON with it base64-encoded in data.attributes.file.data. Answers the importer, pending; rows are imported in the background (GET /importers/{id} for the counts, GET /importers/{id}/errors for the rows refused). A row whose reference id exists already is a duplicate and changes nothing."
      )
  )
  .add(
    HttpApiEndpoint.get("listImporters", "/importers")
      .setUrlParams(query({ "page[after]": Schema.optional(Schema.String), "page[before]": Schema.optional(Schema.String), "page[size]": Schema.optional(PageSize) }))
      .addSuccess(Schema.Struct({ data: Schema.Array(ImporterResource), links: Schema.Struct({ prev: Schema.NullOr(Schema.String), next: Schema.NullOr(Schema.String) }) }))
      .annotate(OpenApi.Summary, "List importers")
  )
  .add(HttpApiEndpoint.get("getImporter")`/importers/${importerId}`.addSuccess(ImporterDocument).addError(NotFound).annotate(OpenApi.Summary, "Retrieve an importer"))
  .add(
    HttpApiEndpoint.get("listImporterErrors")`/importers/${importerId}/errors`
      .setUrlParams(Schema.Struct({ "page[after]": Schema.optional(Schema.String), "page[size]": Schema.optional(PageSize) }))
      .addSuccess(ImporterErrorList)
      .addError(NotFound)
      .annotate(OpenApi.Summary, "List an importer's row errors (acct extension)")
      .annotate(OpenApi.Description, "The rows refused, in file order: row (its line in the file, the header being line 1), column (null for the row as a whole) and problem. Never the value itself.")
  )
  .add(
    HttpApiEndpoint.get("getAccountType")`/account-types/${HttpApiSchema.param("accountTypeId", AccountTypeId.upstream)}`
      .setUrlParams(PlainQuery)
      .addSuccess(Schema.Struct({ data: AccountTypeResource }))
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Retrieve an account type")
  )
  .add(
    HttpApiEndpoint.get("listAccountTypes", "/account-types")
      .setUrlParams(PlainQuery)
      .addSuccess(Schema.Struct({ data: Schema.Array(AccountTypeWithMeta) }))
      .annotate(OpenApi.Summary, "List account types (acct extension)")
  )
  .add(
    HttpApiEndpoint.get("listAccountActions", "/account-actions")
      .setUrlParams(query({ "filter[account-type-id]": Schema.optional(Schema.String) }))
      .addSuccess(Schema.Struct({ data: Schema.Array(AccountActionResource) }))
      .addError(NotFound)
      .annotate(OpenApi.Summary, "List account actions (acct extension)")
  )
  .add(
    HttpApiEndpoint.get("getAccountAction")`/account-actions/${HttpApiSchema.param("accountActionId", AccountActionId.upstream)}`
      .setUrlParams(PlainQuery)
      .addSuccess(Schema.Struct({ data: AccountActionResource }))
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Retrieve an account action (acct extension)")
  )
  .add(
    HttpApiEndpoint.get("listWorkflowRuns", "/workflow-runs")
      .setUrlParams(ListPageParams)
      .addSuccess(Schema.Struct({ data: Schema.Array(WorkflowRunResource), links: Schema.Struct({ prev: Schema.NullOr(Schema.String), next: Schema.NullOr(Schema.String) }) }))
      .annotate(OpenApi.Summary, "List workflow runs (acct extension)")
  )
  .add(
    HttpApiEndpoint.get("getWorkflowRun")`/workflow-runs/${HttpApiSchema.param("workflowRunId", ActionRunId.upstream)}`
      .setUrlParams(PlainQuery)
      .addSuccess(Schema.Struct({ data: WorkflowRunResource }))
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Retrieve a workflow run (acct extension)")
  )
  .prefix("/api/v1")
  // The last added runs first: the key is checked, then the path's ids.
  .middleware(PathIds)
  .middleware(Authentication)
  .addError(schemas.Forbidden)
  .addError(schemas.TooManyRequests)
  .addError(schemas.Unavailable)
  .annotate(OpenApi.Title, "Persona-compatible accounts API") {}
