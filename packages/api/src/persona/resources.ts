/**
 * Persona's JSON:API documents: kebab-case keys, `{ type, id, attributes, relationships }`
 * resources, field values typed `{ type, value }` (and never key-inflected). The mappers here
 * turn domain objects into exactly those shapes.
 */
import { type Account, type AccountAction, AccountType, type ActionRun, AttributeMapping, type CreateAccountInput, decodeUpstreamAction, decodeUpstreamRun, type FlatAttribute, type FieldSchema, FieldValue, Importer, type ImportRowError, type RelationSchema, type SearchAccountsQuery, searchableFields, type UpdateAccountInput, upstreamAccount } from "@acct/core"
import { Schema } from "effect"

const iso = (d: Date) => d.toISOString()

export const AccountAttributes = Schema.Struct({
  "reference-id": Schema.NullOr(Schema.String),
  "account-type-name": Schema.String,
  "created-at": Schema.String,
  "updated-at": Schema.String,
  "redacted-at": Schema.NullOr(Schema.String),
  fields: Schema.Record({ key: Schema.String, value: FieldValue }),
  tags: Schema.Array(Schema.String),
  "account-status": Schema.String
})

export const AccountResource = Schema.Struct({
  type: Schema.Literal("account"),
  id: Schema.String,
  attributes: AccountAttributes,
  relationships: Schema.Struct({
    "account-type": Schema.Struct({ data: Schema.Struct({ type: Schema.Literal("account-type"), id: Schema.String }) })
  })
})
export type AccountResource = typeof AccountResource.Type

export const toAccountResource = (a: Account): AccountResource => ({
  type: "account",
  id: a.id,
  attributes: {
    "reference-id": a.referenceId,
    "account-type-name": a.accountTypeName,
    "created-at": iso(a.createdAt),
    "updated-at": iso(a.updatedAt),
    "redacted-at": a.redactedAt ? iso(a.redactedAt) : null,
    fields: a.fields,
    tags: a.tags,
    "account-status": a.status
  },
  relationships: { "account-type": { data: { type: "account-type", id: a.accountTypeId } } }
})

export const AccountList = Schema.Struct({
  data: Schema.Array(AccountResource),
  links: Schema.Struct({ prev: Schema.NullOr(Schema.String), next: Schema.NullOr(Schema.String) })
})
export const RunActionDocument = Schema.Struct({
  data: AccountResource,
  meta: Schema.Struct({ "workflow-run-id": Schema.String })
})

/** Persona's field-schema objects: `{ type, key, label, config }`. */
export interface PersonaFieldSchema {
  readonly type: string
  readonly key: string
  readonly label: string | null
  readonly config: Readonly<Record<string, unknown>>
}
export const PersonaFieldSchema: Schema.Schema<PersonaFieldSchema> = Schema.Struct({
  type: Schema.String,
  key: Schema.String,
  label: Schema.NullOr(Schema.String),
  config: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})

export const toPersonaFieldSchema = (f: FieldSchema): PersonaFieldSchema => ({
  type: f.type,
  key: f.key,
  label: f.label ?? null,
  config: {
    required: f.required ?? false,
    ...(f.options ? { options: f.options } : {}),
    ...(f.fields ? { "item-schemas": f.fields.map(toPersonaFieldSchema) } : {}),
    ...(f.items ? { "item-schema": toPersonaFieldSchema(f.items) } : {})
  }
})

export const AccountTypeResource = Schema.Struct({
  type: Schema.Literal("account-type"),
  id: Schema.String,
  attributes: Schema.Struct({
    name: Schema.String,
    "created-at": Schema.String,
    "updated-at": Schema.NullOr(Schema.String),
    "field-schemas": Schema.Array(PersonaFieldSchema)
  })
})
export type AccountTypeResource = typeof AccountTypeResource.Type

/** A relation schema as Persona lists it among a type's field schemas (`relation-schema`). */
const toPersonaRelationSchema = (r: RelationSchema): PersonaFieldSchema => ({ type: "relation-schema", key: r.key, label: r.label ?? null, config: { required: false } })

export const toAccountTypeResource = (t: AccountType): AccountTypeResource => ({
  type: "account-type",
  id: t.id,
  attributes: {
    name: t.name,
    "created-at": iso(t.createdAt),
    "updated-at": iso(t.updatedAt),
    "field-schemas": [...t.fields.map(toPersonaFieldSchema), ...t.relations.map(toPersonaRelationSchema)]
  }
})

/** An account, and with `?include=account-type` its type in `included`. */
export const AccountDocument = Schema.Struct({ data: AccountResource, included: Schema.optional(Schema.Array(AccountTypeResource)) })

/**
 * acct's own view of a type (extension endpoint `GET /account-types`): Persona's resource plus a
 * `meta` with the statuses and the lifecycle mapping, which Persona's resource cannot carry.
 */
export const AccountTypeWithMeta = Schema.Struct({
  ...AccountTypeResource.fields,
  meta: Schema.Struct({
    /** The catalog's description of the type (Persona's resource has none). */
    description: Schema.optionalWith(Schema.String, { default: () => "" }),
    statuses: Schema.Array(Schema.String),
    "default-status": Schema.String,
    lifecycle: Schema.Struct({ active: Schema.String, enabled: Schema.String, disabled: Schema.String }),
    /** Which field each flat attribute (`name-first`, …) sets; keys are attribute names, so they follow Key-Inflection. */
    attributes: Schema.optional(AttributeMapping),
    default: Schema.optional(Schema.Boolean),
    /** What Persona's `relation-schema` entries cannot say: each relation's target type and cardinality. */
    relations: Schema.optionalWith(
      Schema.Array(Schema.Struct({ key: Schema.String, label: Schema.NullOr(Schema.String), "target-type": Schema.String, cardinality: Schema.Literal("one", "many") })),
      { default: () => [] }
    ),
    /**
     * The search attributes the type's searchable fields give (`fields.email_address`,
     * `fields.name.last`): Persona's field-schema config has no place for the flag.
     */
    searchable: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
    /**
     * The fields the catalog marks personal data (`name`, `address.street_1`), which every
     * surface masks: Persona's field-schema config has no place for the flag either.
     */
    pii: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
  })
})

/** The dotted paths (`name`, `address.street_1`) of the fields, nested ones included, that `marked` holds. */
const fieldPaths = (schemas: ReadonlyArray<FieldSchema>, marked: (f: FieldSchema) => boolean, prefix = ""): ReadonlyArray<string> =>
  schemas.flatMap((f) => [...(marked(f) ? [`${prefix}${f.key}`] : []), ...(f.type === "hash" ? fieldPaths(f.fields ?? [], marked, `${prefix}${f.key}.`) : [])])

/** The fields with `flag` set again where `paths` (dotted, as fieldPaths writes them) name them. */
const markFields = (schemas: ReadonlyArray<FieldSchema>, paths: ReadonlySet<string>, flag: "searchable" | "pii", prefix = ""): ReadonlyArray<FieldSchema> =>
  schemas.map((f) => {
    const path = `${prefix}${f.key}`
    const marked = paths.has(path) ? { ...f, [flag]: true } : f
    return f.type === "hash" ? { ...marked, fields: markFields(f.fields ?? [], paths, flag, `${path}.`) } : marked
  })
export const toAccountTypeWithMeta = (t: AccountType): typeof AccountTypeWithMeta.Type => ({
  ...toAccountTypeResource(t),
  meta: {
    description: t.description,
    statuses: t.statuses,
    "default-status": t.defaultStatus,
    lifecycle: t.lifecycle,
    ...(t.attributes !== undefined ? { attributes: t.attributes } : {}),
    ...(t.default !== undefined ? { default: t.default } : {}),
    relations: t.relations.map((r) => ({ key: r.key, label: r.label ?? null, "target-type": r.targetType, cardinality: r.cardinality })),
    searchable: searchableFields(t).map((f) => `fields.${f.path}`),
    pii: fieldPaths(t.fields, (f) => f.pii === true)
  }
})

export const AccountActionResource = Schema.Struct({
  type: Schema.Literal("account-action"),
  id: Schema.String,
  attributes: Schema.Struct({
    name: Schema.String,
    description: Schema.String,
    "account-type-id": Schema.String,
    "parameter-schemas": Schema.Array(PersonaFieldSchema),
    steps: Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
    "requires-confirmation": Schema.Boolean,
    "created-at": Schema.String,
    "updated-at": Schema.String
  })
})
export const toAccountActionResource = (a: AccountAction): typeof AccountActionResource.Type => ({
  type: "account-action",
  id: a.id,
  attributes: {
    name: a.name,
    description: a.description,
    "account-type-id": a.accountTypeId,
    "parameter-schemas": a.parameters.map(toPersonaFieldSchema),
    steps: a.steps as ReadonlyArray<Record<string, unknown>>,
    "requires-confirmation": a.confirm,
    "created-at": iso(a.createdAt),
    "updated-at": iso(a.updatedAt)
  }
})

export const WorkflowRunResource = Schema.Struct({
  type: Schema.Literal("workflow-run"),
  id: Schema.String,
  attributes: Schema.Struct({
    status: Schema.String,
    "account-id": Schema.String,
    "account-action-id": Schema.NullOr(Schema.String),
    "action-name": Schema.String,
    actor: Schema.Struct({ kind: Schema.String, id: Schema.String, name: Schema.String }),
    /** The API key the actor (a person a front end named) acted through; null when the actor is the key itself. */
    via: Schema.optional(Schema.NullOr(Schema.Struct({ kind: Schema.String, id: Schema.String, name: Schema.String }))),
    parameters: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
    "status-before": Schema.String,
    "status-after": Schema.String,
    events: Schema.Array(Schema.Struct({ event: Schema.String, data: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })),
    "idempotency-key": Schema.NullOr(Schema.String),
    "started-at": Schema.String,
    "finished-at": Schema.String
  })
})
export const toWorkflowRunResource = (r: ActionRun): typeof WorkflowRunResource.Type => ({
  type: "workflow-run",
  id: r.id,
  attributes: {
    status: r.status,
    "account-id": r.accountId,
    "account-action-id": r.actionId,
    "action-name": r.actionName,
    actor: r.actor,
    via: r.via,
    parameters: r.parameters,
    "status-before": r.statusBefore,
    "status-after": r.statusAfter,
    events: r.events,
    "idempotency-key": r.idempotencyKey,
    "started-at": iso(r.startedAt),
    "finished-at": iso(r.finishedAt)
  }
})

/** Persona's `importer/account` resource: status and counts (its schema has room for nothing else). */
export const ImporterResource = Schema.Struct({
  type: Schema.Literal("importer/account"),
  id: Schema.String,
  attributes: Schema.Struct({
    status: Schema.String,
    "created-at": Schema.String,
    "completed-at": Schema.NullOr(Schema.String),
    "error-count": Schema.Number,
    "successful-count": Schema.Number,
    "duplicate-count": Schema.Number
  })
})
export const ImporterDocument = Schema.Struct({ data: ImporterResource })

export const toImporterResource = (i: Importer): typeof ImporterResource.Type => ({
  type: "importer/account",
  id: i.id,
  attributes: {
    status: i.status,
    "created-at": iso(i.createdAt),
    "completed-at": i.completedAt ? iso(i.completedAt) : null,
    "error-count": i.errorCount,
    "successful-count": i.successfulCount,
    "duplicate-count": i.duplicateCount
  }
})

/**
 * acct extension `GET /importers/{id}/errors`: the rows refused, in file order, and the file's
 * row count (for progress: rows done = the three counts added up).
 */
export const ImporterErrorList = Schema.Struct({
  data: Schema.Array(Schema.Struct({ row: Schema.Number, column: Schema.NullOr(Schema.String), problem: Schema.String })),
  links: Schema.Struct({ prev: Schema.NullOr(Schema.String), next: Schema.NullOr(Schema.String) }),
  meta: Schema.Struct({ "row-count": Schema.Number, "account-type-id": Schema.String })
})
export const toImportRowErrorResource = (e: ImportRowError) => ({ row: e.row, column: e.column, problem: e.problem })

/** Persona's resource lacks the row count and the type: a client fills them in from the errors list's `meta`. */
export const fromImporterResource = (r: typeof ImporterResource.Type, meta: { readonly "row-count": number; readonly "account-type-id": string }): Importer =>
  new Importer(
    {
      id: r.id as Importer["id"],
      status: r.attributes.status === "ready" || r.attributes.status === "errored" ? r.attributes.status : "pending",
      accountTypeId: meta["account-type-id"],
      rowCount: meta["row-count"],
      successfulCount: r.attributes["successful-count"],
      duplicateCount: r.attributes["duplicate-count"],
      errorCount: r.attributes["error-count"],
      createdAt: new Date(r.attributes["created-at"]),
      completedAt: r.attributes["completed-at"] === null ? null : new Date(r.attributes["completed-at"])
    },
    true
  )

// ---- request bodies ------------------------------------------------------------------------

const Strict = { onExcessProperty: "error" } as const

/**
 * Persona's selfie: `{ data: { data: <base64>, filename } }`; `data: null` removes it (PATCH).
 * acct keeps the file's name and size (see core's attributes.ts).
 */
const SelfiePhoto = Schema.Struct({
  data: Schema.NullOr(Schema.Struct({ data: Schema.optional(Schema.String), filename: Schema.optional(Schema.String) }).annotations({ parseOptions: Strict }))
}).annotations({ parseOptions: Strict })

/** Persona's flat attributes, set onto the fields the account type maps them to (catalog `attributes`). */
const FlatAttributes = {
  "name-first": Schema.optional(Schema.String),
  "name-middle": Schema.optional(Schema.String),
  "name-last": Schema.optional(Schema.String),
  "email-address": Schema.optional(Schema.String),
  "phone-number": Schema.optional(Schema.String),
  birthdate: Schema.optional(Schema.String),
  "address-street-1": Schema.optional(Schema.String),
  "address-street-2": Schema.optional(Schema.String),
  "address-city": Schema.optional(Schema.String),
  "address-subdivision": Schema.optional(Schema.String),
  "address-postal-code": Schema.optional(Schema.String),
  "country-code": Schema.optional(Schema.String),
  "social-security-number": Schema.optional(Schema.String),
  "selfie-photo": Schema.optional(SelfiePhoto)
} satisfies Record<FlatAttribute, unknown>

const Tags = Schema.NullOr(Schema.Array(Schema.String))
const FieldsInput = Schema.Record({ key: Schema.String, value: Schema.Unknown })

export const CreateAccountBody = Schema.Struct({
  data: Schema.Struct({
    attributes: Schema.Struct({
      "account-type-id": Schema.optional(Schema.String.annotations({ description: "Account Type ID (acttp_…); without it, the catalog's default type." })),
      "account-status": Schema.optional(Schema.String),
      "reference-id": Schema.optional(Schema.String),
      tags: Schema.optional(Tags),
      fields: Schema.optional(FieldsInput),
      ...FlatAttributes
    }).annotations({ parseOptions: Strict })
  }).annotations({ parseOptions: Strict }),
  meta: Schema.optional(
    Schema.Struct({
      // The description on the union, not on the literal: Schema says a literal's description as
      // what was expected ("expected reference-id: update the account…, got 7").
      "upsert-by": Schema.optional(Schema.NullOr(Schema.Literal("reference-id")).annotations({ description: "reference-id: update the account with this reference id if there is one (200), else create it (201)." }))
    }).annotations({ parseOptions: Strict })
  )
}).annotations({ parseOptions: Strict })

export const UpdateAccountBody = Schema.Struct({
  data: Schema.Struct({
    attributes: Schema.Struct({
      "reference-id": Schema.optional(Schema.String),
      "account-status": Schema.optional(Schema.String),
      tags: Schema.optional(Tags),
      fields: Schema.optional(FieldsInput),
      ...FlatAttributes
    }).annotations({ parseOptions: Strict })
  }).annotations({ parseOptions: Strict })
}).annotations({ parseOptions: Strict })

/** The flat attributes among a request's attributes. */
export const flatAttributesOf = (attributes: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(attributes).filter(([key, value]) => value !== undefined && key in FlatAttributes))

/** `filter[reference-id]` for one reference id or several (Persona's comma-separated list). */
export const referenceIdFilter = (referenceId: string | ReadonlyArray<string> | undefined): string | undefined =>
  referenceId === undefined || typeof referenceId === "string" ? referenceId : referenceId.join(",")

/** The attributes of a create request, as any client of a Persona-style API sends them. */
export const toCreateAccountAttributes = (input: CreateAccountInput, accountTypeId: string): typeof CreateAccountBody.Type["data"]["attributes"] => ({
  "account-type-id": accountTypeId,
  ...(input.referenceId ? { "reference-id": input.referenceId } : {}),
  ...(input.status !== undefined ? { "account-status": input.status } : {}),
  ...(input.tags !== undefined ? { tags: input.tags } : {}),
  ...(input.fields !== undefined ? { fields: input.fields } : {})
})

/** The attributes of an update request. The wire cannot clear a reference id: callers refuse `null` first. */
export const toUpdateAccountAttributes = (input: UpdateAccountInput): typeof UpdateAccountBody.Type["data"]["attributes"] => ({
  ...(typeof input.referenceId === "string" ? { "reference-id": input.referenceId } : {}),
  ...(input.status !== undefined ? { "account-status": input.status } : {}),
  ...(input.tags !== undefined ? { tags: input.tags } : {}),
  ...(input.fields !== undefined ? { fields: input.fields } : {})
})

const TagIdDescription = "acct's id of a tag: tag_ and the tag's name in base64url (see the README)."

/** A tag by name or by id (`tag-name` or `tag-id`, one of them). */
export const TagBody = Schema.Struct({
  meta: Schema.Struct({
    "tag-name": Schema.optional(Schema.String),
    "tag-id": Schema.optional(Schema.String.annotations({ description: TagIdDescription }))
  }).annotations({ parseOptions: Strict })
}).annotations({ parseOptions: Strict })

/** The tags to set, by name and/or by id. */
export const SetTagsBody = Schema.Struct({
  meta: Schema.Struct({
    "tag-name": Schema.optional(Schema.Array(Schema.String)),
    "tag-id": Schema.optional(Schema.Array(Schema.String.annotations({ description: TagIdDescription })))
  }).annotations({ parseOptions: Strict })
}).annotations({ parseOptions: Strict })

/**
 * acct extension: tags added and removed as one change (the server applies both in one
 * transaction, so a concurrent tag change is kept, unlike a read followed by set-tags).
 */
export const ChangeTagsBody = Schema.Struct({
  meta: Schema.Struct({
    "add-tags": Schema.optional(Schema.Array(Schema.String)),
    "remove-tags": Schema.optional(Schema.Array(Schema.String))
  }).annotations({ parseOptions: Strict })
}).annotations({ parseOptions: Strict })

/** Persona's add-relation / remove-relation body (its example: `beneficial_owners`, `act_ABC123`). */
export const RelationBody = Schema.Struct({
  meta: Schema.Struct({ "relation-schema-key": Schema.String, "target-object-id": Schema.String }).annotations({ parseOptions: Strict })
}).annotations({ parseOptions: Strict })

/**
 * Persona's importer request, JSON form: the CSV base64-encoded. (The multipart form,
 * `data[attributes][file]`, is read at the server's edge into this same shape.)
 */
export const ImportAccountsBody = Schema.Struct({
  data: Schema.Struct({
    attributes: Schema.Struct({
      file: Schema.Struct({
        data: Schema.String.annotations({ description: "The CSV file, base64-encoded" }),
        filename: Schema.optional(Schema.String)
      }).annotations({ parseOptions: Strict })
    }).annotations({ parseOptions: Strict })
  }).annotations({ parseOptions: Strict })
}).annotations({ parseOptions: Strict })

export const ConsolidateBody = Schema.Struct({
  meta: Schema.Struct({ "source-account-ids": Schema.Array(Schema.String) }).annotations({ parseOptions: Strict })
}).annotations({ parseOptions: Strict })

export const RunActionBody = Schema.Struct({
  data: Schema.Struct({
    "account-action-id": Schema.String,
    parameters: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
  }).annotations({ parseOptions: Strict })
}).annotations({ parseOptions: Strict })

/** One level of Persona's query language, for the OpenAPI document (acct checks it in core's search.ts). */
const predicateJsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["attribute", "operator", "value"],
  properties: {
    attribute: { type: "string", description: "type, status, created_at, updated_at, identifiers.reference_id, tags (acct extension) or fields.<searchable field>", examples: ["fields.email_address"] },
    operator: { type: "string", enum: ["eq", "gt", "gte", "lt", "lte"] },
    value: { oneOf: [{ type: "string" }, { type: "number" }, { type: "boolean" }] }
  }
}
const clauseJsonSchema = (key: "and" | "or" | "not") => ({
  type: "object",
  additionalProperties: false,
  required: [key],
  properties: { [key]: key === "not" ? { type: "object" } : { type: "array", minItems: 1, maxItems: 20, items: { type: "object" } } }
})

export const SearchQueryJson = Schema.Unknown.annotations({
  description: "A predicate {attribute, operator, value} or an and / or (1–20 clauses) / not clause; clauses nest at most 2 levels deep.",
  jsonSchema: { oneOf: [clauseJsonSchema("and"), clauseJsonSchema("or"), clauseJsonSchema("not"), predicateJsonSchema] }
})

export const SearchSortJson = Schema.Unknown.annotations({
  description: "Sort by an attribute the query may name (not tags); missing values come last.",
  jsonSchema: { type: "object", additionalProperties: false, required: ["attribute"], properties: { attribute: { type: "string", examples: ["created_at", "fields.name.last"] }, direction: { type: "string", enum: ["asc", "desc"], default: "desc" } } }
})

const BodyPageSize = Schema.Int.pipe(Schema.between(1, 100, { message: () => "page.size must be an integer from 1 to 100" }))

export const SearchAccountsBody = Schema.Struct({
  query: Schema.optional(SearchQueryJson),
  sort: Schema.optional(SearchSortJson),
  page: Schema.optional(
    Schema.Struct({ after: Schema.optional(Schema.String), before: Schema.optional(Schema.String), size: Schema.optional(BodyPageSize) }).annotations({ parseOptions: Strict })
  )
}).annotations({ parseOptions: Strict })

/** The body of a search request, as any client of a Persona-style API sends it (the cursor travels in `page`). */
export const toSearchBody = (q: SearchAccountsQuery): typeof SearchAccountsBody.Type => {
  const page = { ...(q.after !== undefined ? { after: q.after } : {}), ...(q.before !== undefined ? { before: q.before } : {}), ...(q.size !== undefined ? { size: q.size } : {}) }
  return { ...(q.query !== undefined ? { query: q.query } : {}), ...(q.sort !== undefined ? { sort: q.sort } : {}), ...(Object.keys(page).length > 0 ? { page } : {}) }
}

// ---- wire → domain (for clients) -----------------------------------------------------------

const date = (iso: string) => new Date(iso)

/**
 * Persona's resource carries no version or consolidation link: a remote account has version 0.
 * Its ids are the remote's (a gateway answers its upstream's): kept as they are.
 */
export const fromAccountResource = (r: AccountResource): Account =>
  upstreamAccount({
    id: r.id as Account["id"],
    referenceId: r.attributes["reference-id"],
    accountTypeId: r.relationships["account-type"].data.id as Account["accountTypeId"],
    accountTypeName: r.attributes["account-type-name"],
    status: r.attributes["account-status"],
    fields: r.attributes.fields,
    tags: r.attributes.tags,
    version: 0,
    createdAt: date(r.attributes["created-at"]),
    updatedAt: date(r.attributes["updated-at"]),
    redactedAt: r.attributes["redacted-at"] === null ? null : date(r.attributes["redacted-at"]),
    consolidatedInto: null
  })

export const fromPersonaFieldSchema = (f: PersonaFieldSchema): FieldSchema => {
  const config = f.config as { required?: boolean; options?: ReadonlyArray<string>; "item-schemas"?: ReadonlyArray<PersonaFieldSchema>; "item-schema"?: PersonaFieldSchema }
  return {
    key: f.key,
    type: f.type as FieldSchema["type"],
    ...(f.label !== null ? { label: f.label } : {}),
    ...(config.required ? { required: true } : {}),
    ...(config.options ? { options: config.options } : {}),
    ...(config["item-schemas"] ? { fields: config["item-schemas"].map(fromPersonaFieldSchema) } : {}),
    ...(config["item-schema"] ? { items: fromPersonaFieldSchema(config["item-schema"]) } : {})
  }
}

export const fromAccountTypeWithMeta = (r: typeof AccountTypeWithMeta.Type): AccountType =>
  AccountType.make({
    id: r.id as AccountType["id"],
    name: r.attributes.name,
    description: r.meta.description,
    fields: markFields(
      markFields(r.attributes["field-schemas"].filter((f) => f.type !== "relation-schema").map(fromPersonaFieldSchema), new Set(r.meta.searchable.map((a) => a.replace(/^fields\./, ""))), "searchable"),
      new Set(r.meta.pii),
      "pii"
    ),
    relations: r.meta.relations.map((x) => ({ key: x.key, ...(x.label !== null ? { label: x.label } : {}), targetType: x["target-type"], cardinality: x.cardinality })),
    statuses: r.meta.statuses as unknown as AccountType["statuses"],
    defaultStatus: r.meta["default-status"],
    lifecycle: r.meta.lifecycle,
    ...(r.meta.attributes !== undefined ? { attributes: r.meta.attributes } : {}),
    ...(r.meta.default !== undefined ? { default: r.meta.default } : {}),
    createdAt: date(r.attributes["created-at"]),
    updatedAt: date(r.attributes["updated-at"] ?? r.attributes["created-at"])
  })

/** Its ids, type and steps, as a run's, are the remote's (a gateway answers its upstream's). */
export const fromAccountActionResource = (r: typeof AccountActionResource.Type): AccountAction =>
  decodeUpstreamAction({
    id: r.id,
    name: r.attributes.name,
    description: r.attributes.description,
    accountTypeId: r.attributes["account-type-id"],
    parameters: r.attributes["parameter-schemas"].map(fromPersonaFieldSchema),
    steps: r.attributes.steps,
    confirm: r.attributes["requires-confirmation"],
    createdAt: r.attributes["created-at"],
    updatedAt: r.attributes["updated-at"]
  })

/** Its ids, as an account's, are the remote's. */
export const fromWorkflowRunResource = (r: typeof WorkflowRunResource.Type): ActionRun =>
  decodeUpstreamRun({
    id: r.id,
    accountId: r.attributes["account-id"],
    actionId: r.attributes["account-action-id"],
    actionName: r.attributes["action-name"],
    status: r.attributes.status,
    actor: r.attributes.actor,
    via: r.attributes.via ?? null,
    parameters: r.attributes.parameters,
    statusBefore: r.attributes["status-before"],
    statusAfter: r.attributes["status-after"],
    events: r.attributes.events,
    error: null,
    idempotencyKey: r.attributes["idempotency-key"],
    startedAt: r.attributes["started-at"],
    finishedAt: r.attributes["finished-at"]
  })
