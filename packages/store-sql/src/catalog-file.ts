/**
 * Catalog files: account types and actions in YAML or JSON, validated with errors that name the
 * file, the path and the problem. Loading upserts by name, so ids stay stable across reloads.
 */
import {
  AccountAction,
  AccountActionId,
  AccountType,
  AccountTypeId,
  AttributeMapping,
  checkAttributeMapping,
  FieldSchema,
  type Issue,
  InvalidRequest,
  issuesOf,
  LifecycleMapping,
  searchableChanged,
  RelationSchema,
  Step,
  stepParams
} from "@acct/core"
import { SqlClient } from "@effect/sql"
import { Clock, Effect, Either, Schema } from "effect"
import { parseDocument } from "@acct/core/document"
import { type DefinitionRow, encodeAction, encodeType, toAction, toType } from "./rows.js"
import { reindexType } from "./search.js"
import { fromSqlError } from "./sql-errors.js"

const TypeEntry = Schema.Struct({
  id: Schema.optional(AccountTypeId),
  name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)),
  description: Schema.optional(Schema.String),
  fields: Schema.Array(FieldSchema),
  relations: Schema.optional(Schema.Array(RelationSchema)),
  statuses: Schema.NonEmptyArray(Schema.String),
  defaultStatus: Schema.String,
  lifecycle: LifecycleMapping,
  attributes: Schema.optional(AttributeMapping),
  default: Schema.optional(Schema.Boolean)
})

const ActionEntry = Schema.Struct({
  id: Schema.optional(AccountActionId),
  name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)),
  description: Schema.optional(Schema.String),
  accountType: Schema.String,
  parameters: Schema.optionalWith(Schema.Array(FieldSchema), { default: () => [] }),
  steps: Schema.NonEmptyArray(Step),
  confirm: Schema.optional(Schema.Boolean)
})

export const CatalogFile = Schema.Struct({
  accountTypes: Schema.optional(Schema.Array(TypeEntry)),
  actions: Schema.optional(Schema.Array(ActionEntry))
})
export type CatalogFile = typeof CatalogFile.Type
export type CatalogInput = typeof CatalogFile.Encoded

const catalogError = (source: string, issues: ReadonlyArray<Issue>) => InvalidRequest.fromIssues(issues, `${source}: invalid catalog`)

/** Rules a schema cannot see: statuses that exist, unique names, steps that refer to real parameters. */
const crossCheck = (catalog: CatalogFile, knownTypes: ReadonlyArray<string>): ReadonlyArray<Issue> => {
  const issues: Array<Issue> = []
  const accountTypes = catalog.accountTypes ?? []
  const catalogActions = catalog.actions ?? []
  const typeNames = accountTypes.map((t) => t.name)
  accountTypes.forEach((type, i) => {
    const at = (...path: Array<string | number>) => ["accountTypes", i, ...path]
    if (typeNames.indexOf(type.name) !== i) issues.push({ path: at("name"), message: `duplicate account type name ${JSON.stringify(type.name)}` })
    if (!type.statuses.includes(type.defaultStatus)) issues.push({ path: at("defaultStatus"), message: `${JSON.stringify(type.defaultStatus)} is not one of statuses` })
    for (const [state, status] of Object.entries(type.lifecycle)) {
      if (!type.statuses.includes(status)) issues.push({ path: at("lifecycle", state), message: `${JSON.stringify(status)} is not one of statuses` })
    }
    const keys = type.fields.map((f) => f.key)
    keys.forEach((k, j) => keys.indexOf(k) !== j && issues.push({ path: at("fields", j, "key"), message: `duplicate field key ${JSON.stringify(k)}` }))
    const relations = type.relations ?? []
    relations.forEach((relation, j) => {
      if (relations.findIndex((r) => r.key === relation.key) !== j) issues.push({ path: at("relations", j, "key"), message: `duplicate relation key ${JSON.stringify(relation.key)}` })
      if (!typeNames.includes(relation.targetType) && !knownTypes.includes(relation.targetType)) {
        issues.push({ path: at("relations", j, "targetType"), message: `unknown account type ${JSON.stringify(relation.targetType)}` })
      }
    })
    for (const issue of checkAttributeMapping(type.fields, type.attributes ?? {})) issues.push({ ...issue, path: at(...issue.path) })
  })
  const defaults = accountTypes.filter((t) => t.default === true).map((t) => t.name)
  if (defaults.length > 1) issues.push({ path: ["accountTypes"], message: `only one account type can be the default; ${defaults.join(", ")} all say default: true` })
  const actionNames = catalogActions.map((a) => a.name)
  catalogActions.forEach((action, i) => {
    const at = (...path: Array<string | number>) => ["actions", i, ...path]
    if (actionNames.indexOf(action.name) !== i) issues.push({ path: at("name"), message: `duplicate action name ${JSON.stringify(action.name)}` })
    const type = accountTypes.find((t) => t.name === action.accountType)
    if (!type && !knownTypes.includes(action.accountType)) {
      issues.push({ path: at("accountType"), message: `unknown account type ${JSON.stringify(action.accountType)}` })
    }
    const params = action.parameters.map((p) => p.key)
    action.steps.forEach((step, j) => {
      for (const param of stepParams(step)) {
        if (!params.includes(param)) issues.push({ path: at("steps", j), message: `refers to parameter ${JSON.stringify(param)}, which the action does not declare (${params.join(", ") || "none"})` })
      }
      if (type && step.type === "set-status" && typeof step.status === "string" && !type.statuses.includes(step.status)) {
        issues.push({ path: at("steps", j, "status"), message: `${JSON.stringify(step.status)} is not a status of ${type.name}` })
      }
      if (type && step.type === "set-fields") {
        for (const key of Object.keys(step.fields)) {
          if (!type.fields.some((f) => f.key === key)) issues.push({ path: at("steps", j, "fields", key), message: `not a field of ${type.name}` })
        }
      }
    })
  })
  return issues
}

/** Parses and validates a catalog's text; `source` names the file in every message. */
export const parseCatalog = (text: string, source: string, format: "yaml" | "json" = source.endsWith(".json") ? "json" : "yaml"): Either.Either<CatalogFile, InvalidRequest> => {
  const parsed = parseDocument(text, source, format)
  if (Either.isLeft(parsed)) return Either.left(parsed.left)
  const raw = parsed.right
  return Schema.decodeUnknownEither(CatalogFile, { errors: "all", onExcessProperty: "error" })(raw).pipe(
    Either.mapLeft((error) => catalogError(source, issuesOf(error)))
  )
}

export interface LoadedCatalog {
  readonly accountTypes: ReadonlyArray<AccountType>
  readonly actions: ReadonlyArray<AccountAction>
}

/** Writes a validated catalog in one transaction: all of it, or nothing. */
export const loadCatalog = (catalog: CatalogFile, source: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const now = new Date(yield* Clock.currentTimeMillis)
    const existingTypes = (yield* sql<DefinitionRow>`SELECT definition FROM account_types`).map(toType)
    const issues = crossCheck(catalog, existingTypes.map((t) => t.name))
    if (issues.length > 0) return yield* catalogError(source, issues)
    const existingActions = (yield* sql<DefinitionRow>`SELECT definition FROM account_actions`).map(toAction)

    const types: Array<AccountType> = []
    for (const entry of catalog.accountTypes ?? []) {
      const previous = existingTypes.find((t) => t.name === entry.name || t.id === entry.id)
      const type = AccountType.make({
        id: entry.id ?? previous?.id ?? AccountTypeId.make(),
        name: entry.name,
        description: entry.description ?? "",
        fields: entry.fields,
        relations: entry.relations ?? [],
        statuses: entry.statuses,
        defaultStatus: entry.defaultStatus,
        lifecycle: entry.lifecycle,
        ...(entry.attributes !== undefined ? { attributes: entry.attributes } : {}),
        ...(entry.default !== undefined ? { default: entry.default } : {}),
        createdAt: previous?.createdAt ?? now,
        updatedAt: now
      })
      const row = { id: type.id, name: type.name, definition: encodeType(type), updated_at: now.toISOString() }
      if (previous) yield* sql`UPDATE account_types SET ${sql.update(row)} WHERE id = ${previous.id}`
      else yield* sql`INSERT INTO account_types ${sql.insert({ ...row, created_at: now.toISOString() })}`
      // Fields made searchable (or no longer) change what search finds for accounts already there.
      if (searchableChanged(previous, type)) yield* reindexType(sql, type)
      types.push(type)
    }
    const allTypes = [...types, ...existingTypes.filter((t) => !types.some((n) => n.id === t.id))]
    const actions: Array<AccountAction> = []
    for (const entry of catalog.actions ?? []) {
      const type = allTypes.find((t) => t.name === entry.accountType)!
      const previous = existingActions.find((a) => a.name === entry.name || a.id === entry.id)
      const action = AccountAction.make({
        id: entry.id ?? previous?.id ?? AccountActionId.make(),
        name: entry.name,
        description: entry.description ?? "",
        accountTypeId: type.id,
        parameters: entry.parameters,
        steps: entry.steps,
        confirm: entry.confirm ?? false,
        createdAt: previous?.createdAt ?? now,
        updatedAt: now
      })
      const row = { id: action.id, name: action.name, account_type_id: type.id, definition: encodeAction(action), updated_at: now.toISOString() }
      if (previous) yield* sql`UPDATE account_actions SET ${sql.update(row)} WHERE id = ${previous.id}`
      else yield* sql`INSERT INTO account_actions ${sql.insert({ ...row, created_at: now.toISOString() })}`
      actions.push(action)
    }
    return { accountTypes: types, actions } satisfies LoadedCatalog
  }).pipe(
    (effect) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.withTransaction(effect)),
    Effect.catchTag("SqlError", (e) => Effect.fail(fromSqlError(e)))
  )
