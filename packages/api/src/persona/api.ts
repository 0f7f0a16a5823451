/**
 * The Persona-compatible surface under /api/v1, following Persona's 2025-12-08 OpenAPI file,
 * plus acct's extensions in the same style (types and actions lists, workflow runs).
 */
import { AccountActionId, AccountId, AccountTypeId, ActionRunId, ImporterId } from "@acct/core"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../security.js"
import { schemas } from "./errors.js"

const { Conflict, NotFound, Unprocessable } = schemas
import {
  AccountActionResource,
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
  SetTagsBody,
  TagBody,
  UpdateAccountBody,
  WorkflowRunResource
} from "./resources.js"

const accountId = HttpApiSchema.param("accountId", AccountId)
const importerId = HttpApiSchema.param("importerId", ImporterId)

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

/** Declared on every mutating endpoint: documents it, and lets the typed client send it. */
export const MutationHeaders = Schema.Struct({
  "idempotency-key": Schema.optional(
    Schema.String.annotations({ description: "Repeat the request safely: the first response is replayed for 24 hours (Idempotent-Replayed: true)." })
  ),
  [REASON_HEADER]: Schema.optional(
    Schema.String.annotations({
      description: "Why this change is made (acct extension), kept in the audit trail beside the actor: percent-encoded UTF-8 (encodeURIComponent), at most 1,000 characters once decoded."
    })
  )
})

const PageSize = Schema.NumberFromString.pipe(
  Schema.int({ message: () => "page[size] must be an integer from 1 to 100" }),
  Schema.between(1, 100, { message: () => "page[size] must be an integer from 1 to 100" })
)

/** Persona's deep-object query parameters, as flat keys. */
export const ListAccountsParams = Schema.Struct({
  "page[after]": Schema.optional(Schema.String),
  "page[before]": Schema.optional(Schema.String),
  "page[size]": Schema.optional(PageSize),
  "filter[reference-id]": Schema.optional(Schema.String),
  "filter[account-status]": Schema.optional(Schema.String),
  "filter[tag]": Schema.optional(Schema.String),
  "filter[account-type-id]": Schema.optional(Schema.String)
})

export const ListPageParams = Schema.Struct({
  "page[after]": Schema.optional(Schema.String),
  "page[before]": Schema.optional(Schema.String),
  "page[size]": Schema.optional(PageSize),
  "filter[account-id]": Schema.optional(Schema.String),
  "filter[account-type-id]": Schema.optional(Schema.String)
})

const AccountPath = Schema.Struct({ accountId: AccountId })

/** `GET /accounts/{id}/relations`: Persona requires `filter[key]`. */
export const ListRelationsParams = Schema.Struct({
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
    HttpApiEndpoint.post("createAccount", "/accounts")
      .setHeaders(MutationHeaders)
      .setPayload(CreateAccountBody)
      .addSuccess(AccountDocument, { status: 201 })
      .addError(NotFound)
      .addError(Conflict)
      .addError(Unprocessable)
      .annotate(OpenApi.Summary, "Create an account")
  )
  .add(HttpApiEndpoint.get("getAccount")`/accounts/${accountId}`.addSuccess(AccountDocument).addError(NotFound).annotate(OpenApi.Summary, "Retrieve an account"))
  .add(
    HttpApiEndpoint.patch("updateAccount")`/accounts/${accountId}`
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
      .setUrlParams(Schema.Struct({ "account-type-id": Schema.optional(Schema.String.annotations({ description: "acct extension: the account type to import into (id or name); default: the catalog's default type" })) }))
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
      .setUrlParams(Schema.Struct({ "page[after]": Schema.optional(Schema.String), "page[before]": Schema.optional(Schema.String), "page[size]": Schema.optional(PageSize) }))
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
    HttpApiEndpoint.get("getAccountType")`/account-types/${HttpApiSchema.param("accountTypeId", AccountTypeId)}`
      .addSuccess(Schema.Struct({ data: AccountTypeResource }))
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Retrieve an account type")
  )
  .add(
    HttpApiEndpoint.get("listAccountTypes", "/account-types")
      .addSuccess(Schema.Struct({ data: Schema.Array(AccountTypeWithMeta) }))
      .annotate(OpenApi.Summary, "List account types (acct extension)")
  )
  .add(
    HttpApiEndpoint.get("listAccountActions", "/account-actions")
      .setUrlParams(Schema.Struct({ "filter[account-type-id]": Schema.optional(Schema.String) }))
      .addSuccess(Schema.Struct({ data: Schema.Array(AccountActionResource) }))
      .addError(NotFound)
      .annotate(OpenApi.Summary, "List account actions (acct extension)")
  )
  .add(
    HttpApiEndpoint.get("getAccountAction")`/account-actions/${HttpApiSchema.param("accountActionId", AccountActionId)}`
      .addSuccess(Schema.Struct({ data: AccountActionResource }))
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Retrieve an account action (acct extension)")
  )
  .add(
    HttpApiEndpoint.get("listWorkflowRuns", "/workflow-runs")
      .setUrlParams(ListPageParams)
      .addSuccess(Schema.Struct({ data: Schema.Array(WorkflowRunResource), links: Schema.Struct({ prev: Schema.NullOr(Schema.String), next: Schema.NullOr(Schema.String) }) }))
      .addError(NotFound)
      .annotate(OpenApi.Summary, "List workflow runs (acct extension)")
  )
  .add(
    HttpApiEndpoint.get("getWorkflowRun")`/workflow-runs/${HttpApiSchema.param("workflowRunId", ActionRunId)}`
      .addSuccess(Schema.Struct({ data: WorkflowRunResource }))
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Retrieve a workflow run (acct extension)")
  )
  .prefix("/api/v1")
  .middleware(Authentication)
  .addError(schemas.Forbidden)
  .addError(schemas.TooManyRequests)
  .addError(schemas.Unavailable)
  .annotate(OpenApi.Title, "Persona-compatible accounts API") {}
