/**
 * Account search, as Persona's `POST /accounts/search` defines it: a query of `and` / `or` /
 * `not` clauses (nested at most 2 deep, at most 20 clauses each) over predicates
 * `{ attribute, operator, value }` with eq / gt / gte / lt / lte, an optional sort, and cursor
 * pages. Pure: `parseSearchQuery` / `parseSearchSort` check the shape of untrusted input;
 * `resolveSearch` checks it against the catalog (which fields are searchable, which statuses
 * and types exist) and normalises every value, so a store only has to translate the result.
 * Every problem is an issue whose path points at the predicate (`query.and[1].value`).
 */
import { Either } from "effect"
import type { PageQuery } from "./accounts.js"
import type { AccountType } from "./catalog.js"
import { InvalidRequest, type Issue } from "./errors.js"
import type { FieldSchema, Fields, FieldType } from "./fields.js"

export const SEARCH_OPERATORS = ["eq", "gt", "gte", "lt", "lte"] as const
export type SearchOperator = (typeof SEARCH_OPERATORS)[number]
export type SearchValue = string | number | boolean

export interface SearchPredicate {
  readonly attribute: string
  readonly operator: SearchOperator
  readonly value: SearchValue
}
export type SearchNode =
  | SearchPredicate
  | { readonly and: ReadonlyArray<SearchNode> }
  | { readonly or: ReadonlyArray<SearchNode> }
  | { readonly not: SearchNode }

export interface SearchSort {
  readonly attribute: string
  readonly direction: "asc" | "desc"
}

export interface SearchAccountsQuery extends PageQuery {
  /** No query: every account (archived consolidation sources excepted, as in the list). */
  readonly query?: SearchNode | undefined
  /** No sort: newest first, like the list. */
  readonly sort?: SearchSort | undefined
}

/** Persona's limits: boolean clauses nest at most 2 deep and hold at most 20 clauses each. */
export const SEARCH_MAX_DEPTH = 2
export const SEARCH_MAX_CLAUSES = 20

/** The attributes every account has; `fields.*` come from the catalog. `tags` is acct's extension. */
export const SEARCH_ATTRIBUTES = ["type", "status", "created_at", "updated_at", "identifiers.reference_id", "tags"] as const

type Path = ReadonlyArray<string | number>

const shown = (u: unknown) => (typeof u === "string" ? JSON.stringify(u.length > 60 ? `${u.slice(0, 60)}…` : u) : u === null ? "null" : Array.isArray(u) ? "a list" : typeof u === "object" ? "an object" : String(u))

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const invalid = (issues: ReadonlyArray<Issue>) => InvalidRequest.fromIssues(issues)

// ---- shape -------------------------------------------------------------------------------

const CLAUSE_KEYS = ["and", "or", "not"] as const

const parseNode = (input: unknown, path: Path, depth: number, issues: Array<Issue>): SearchNode | undefined => {
  if (!isObject(input)) {
    issues.push({ path, message: `expected a predicate {attribute, operator, value} or an and/or/not clause, got ${shown(input)}` })
    return undefined
  }
  const keys = Object.keys(input)
  const clause = CLAUSE_KEYS.find((k) => k in input)
  if (clause !== undefined) {
    const extra = keys.filter((k) => k !== clause)
    if (extra.length > 0) {
      issues.push({ path: [...path, extra[0]!], message: `a clause holds "${clause}" alone; put other conditions inside it` })
      return undefined
    }
    if (depth >= SEARCH_MAX_DEPTH) {
      issues.push({ path: [...path, clause], message: `clauses nest at most ${SEARCH_MAX_DEPTH} levels deep (and, or, not)` })
      return undefined
    }
    const inner = input[clause]
    if (clause === "not") {
      const node = parseNode(inner, [...path, "not"], depth + 1, issues)
      return node && { not: node }
    }
    if (!Array.isArray(inner) || inner.length === 0 || inner.length > SEARCH_MAX_CLAUSES) {
      issues.push({ path: [...path, clause], message: `expected a list of 1–${SEARCH_MAX_CLAUSES} conditions, got ${Array.isArray(inner) ? `${inner.length}` : shown(inner)}` })
      return undefined
    }
    const nodes = inner.map((item, i) => parseNode(item, [...path, clause, i], depth + 1, issues))
    if (nodes.some((n) => n === undefined)) return undefined
    return clause === "and" ? { and: nodes as Array<SearchNode> } : { or: nodes as Array<SearchNode> }
  }
  const before = issues.length
  const extra = keys.filter((k) => k !== "attribute" && k !== "operator" && k !== "value")
  if (extra.length > 0) issues.push({ path: [...path, extra[0]!], message: "unknown key; a predicate has attribute, operator and value (a clause: and, or, not)" })
  const { attribute, operator, value } = input
  if (typeof attribute !== "string" || attribute === "") issues.push({ path: [...path, "attribute"], message: `expected an attribute name (e.g. status, fields.email_address), got ${shown(attribute)}` })
  if (!SEARCH_OPERATORS.includes(operator as SearchOperator)) issues.push({ path: [...path, "operator"], message: `expected one of ${SEARCH_OPERATORS.join(", ")}; got ${shown(operator)}` })
  if (!(typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value)))) {
    issues.push({ path: [...path, "value"], message: `expected a string, number or boolean, got ${shown(value)}` })
  }
  return issues.length > before ? undefined : { attribute: attribute as string, operator: operator as SearchOperator, value: value as SearchValue }
}

/** The shape of a query (untrusted JSON): clauses, limits, operators, value types. */
export const parseSearchQuery = (input: unknown, path: Path = ["query"]): Either.Either<SearchNode, InvalidRequest> => {
  const issues: Array<Issue> = []
  const node = parseNode(input, path, 0, issues)
  return node && issues.length === 0 ? Either.right(node) : Either.left(invalid(issues))
}

export const parseSearchSort = (input: unknown, path: Path = ["sort"]): Either.Either<SearchSort, InvalidRequest> => {
  if (!isObject(input)) return Either.left(invalid([{ path, message: `expected {attribute, direction}, got ${shown(input)}` }]))
  const issues: Array<Issue> = []
  const extra = Object.keys(input).filter((k) => k !== "attribute" && k !== "direction")
  if (extra.length > 0) issues.push({ path: [...path, extra[0]!], message: "unknown key; a sort has attribute and direction" })
  if (typeof input.attribute !== "string" || input.attribute === "") issues.push({ path: [...path, "attribute"], message: `expected an attribute name, got ${shown(input.attribute)}` })
  const direction = input.direction ?? "desc"
  if (direction !== "asc" && direction !== "desc") issues.push({ path: [...path, "direction"], message: `expected asc or desc, got ${shown(direction)}` })
  return issues.length > 0 ? Either.left(invalid(issues)) : Either.right({ attribute: input.attribute as string, direction: direction as "asc" | "desc" })
}

// ---- searchable fields -------------------------------------------------------------------

/** How a field's values are compared: as text (also dates, which sort as text) or as numbers. */
export type SearchKind = "text" | "number"

const SCALAR: ReadonlySet<FieldType> = new Set(["string", "email-address", "choices", "date", "datetime", "number", "integer", "boolean"])

const kindOf = (type: FieldType): SearchKind => (type === "number" || type === "integer" ? "number" : "text")

/** A searchable field of a type: its path below `fields.` (`name.last`) and its schema. */
export interface SearchableField {
  readonly path: string
  readonly schema: FieldSchema
}

/** The fields of a type that search can see: those marked searchable, and the scalar parts of searchable hashes. */
export const searchableFields = (type: Pick<AccountType, "fields">): ReadonlyArray<SearchableField> => {
  const out: Array<SearchableField> = []
  const walk = (schemas: ReadonlyArray<FieldSchema>, prefix: string, inherited: boolean) => {
    for (const schema of schemas) {
      const searchable = schema.searchable ?? inherited
      if (schema.type === "hash") walk(schema.fields ?? [], `${prefix}${schema.key}.`, searchable)
      else if (searchable && SCALAR.has(schema.type)) out.push({ path: `${prefix}${schema.key}`, schema })
    }
  }
  walk(type.fields, "", false)
  return out
}

/** A value as search stores and compares it: emails in lower case, date-times in UTC, booleans as text. */
const normalize = (type: FieldType, value: unknown): string | number | undefined => {
  if (value === null || value === undefined) return undefined
  switch (type) {
    case "number":
    case "integer":
      return typeof value === "number" ? value : undefined
    case "boolean":
      return typeof value === "boolean" ? String(value) : undefined
    case "email-address":
      return typeof value === "string" ? value.toLowerCase() : undefined
    case "datetime":
      return typeof value === "string" && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : undefined
    default:
      return typeof value === "string" ? value : undefined
  }
}

/** One searchable value of an account, as a store indexes it. */
export interface SearchValueRow {
  readonly attribute: string
  readonly text: string | null
  readonly number: number | null
}

/** The values of `fields` that search can find, one per searchable field that holds a value. */
export const searchValues = (searchable: ReadonlyArray<SearchableField>, fields: Fields): ReadonlyArray<SearchValueRow> =>
  searchable.flatMap(({ path, schema }) => {
    let field: unknown = { value: fields }
    for (const part of path.split(".")) {
      const value = (field as { value?: unknown } | undefined)?.value
      field = isObject(value) ? value[part] : undefined
    }
    const value = normalize(schema.type, (field as { value?: unknown } | undefined)?.value)
    if (value === undefined) return []
    return [typeof value === "number" ? { attribute: path, text: null, number: value } : { attribute: path, text: value, number: null }]
  })

/** True when two types' searchable fields differ (a catalog change that needs the search values rebuilt). */
export const searchableChanged = (before: Pick<AccountType, "fields"> | undefined, after: Pick<AccountType, "fields">): boolean => {
  const key = (t: Pick<AccountType, "fields"> | undefined) => (t === undefined ? "" : searchableFields(t).map((f) => `${f.path}:${f.schema.type}`).join(","))
  return key(before) !== key(after)
}

// ---- against the catalog -----------------------------------------------------------------

export type SearchColumn = "type" | "status" | "created_at" | "updated_at" | "reference_id" | "tags"

/** What a store has to match: a column of the account, or a searchable field's value. */
export type SearchTarget =
  | { readonly kind: "column"; readonly column: SearchColumn }
  | { readonly kind: "field"; readonly attribute: string; readonly valueKind: SearchKind }

export type ResolvedNode =
  | { readonly kind: "predicate"; readonly target: SearchTarget; readonly operator: SearchOperator; readonly value: string | number }
  | { readonly kind: "and" | "or"; readonly nodes: ReadonlyArray<ResolvedNode> }
  | { readonly kind: "not"; readonly node: ResolvedNode }

export interface ResolvedSearch {
  readonly where: ResolvedNode | undefined
  readonly sort: { readonly target: SearchTarget; readonly direction: "asc" | "desc" } | undefined
}

const COLUMNS: Readonly<Record<string, SearchColumn>> = {
  type: "type",
  status: "status",
  created_at: "created_at",
  updated_at: "updated_at",
  "identifiers.reference_id": "reference_id",
  tags: "tags"
}
const EQ_ONLY: ReadonlySet<SearchColumn> = new Set(["type", "status", "tags"])

const DatePattern = /^\d{4}-\d{2}-\d{2}$/
const DateTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

/** A date (midnight UTC) or an ISO 8601 date-time with a zone, as the stored ISO text. */
const instant = (value: SearchValue): string | undefined =>
  typeof value === "string" && (DatePattern.test(value) || DateTimePattern.test(value)) && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : undefined

const textOf = (value: SearchValue) => (typeof value === "string" ? value : String(value))

type Resolved<A> = Either.Either<A, string>

/** The field schemas at `path` across the types that make it searchable. */
const fieldTarget = (attribute: string, types: ReadonlyArray<AccountType>): Resolved<{ target: SearchTarget; schema: FieldSchema }> => {
  const path = attribute.slice("fields.".length)
  const found = types.flatMap((type) => searchableFields(type).filter((f) => f.path === path).map((f) => ({ type, schema: f.schema })))
  if (found.length === 0) {
    const all = [...new Set(types.flatMap((t) => searchableFields(t).map((f) => `fields.${f.path}`)))]
    return Either.left(`${JSON.stringify(attribute)} is not a searchable field; searchable: ${all.length > 0 ? all.join(", ") : "none (mark fields `searchable: true` in the catalog)"}`)
  }
  const kinds = new Set(found.map((f) => f.schema.type))
  if (kinds.size > 1) return Either.left(`${attribute} is a ${found.map((f) => `${f.schema.type} in ${f.type.name}`).join(" and a ")}; search cannot compare both`)
  const schema = found[0]!.schema
  return Either.right({ target: { kind: "field", attribute: path, valueKind: kindOf(schema.type) }, schema })
}

const fieldValue = (schema: FieldSchema, operator: SearchOperator, value: SearchValue): Resolved<string | number> => {
  switch (schema.type) {
    case "number":
    case "integer": {
      const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN
      return Number.isFinite(n) ? Either.right(n) : Either.left(`expected a number, got ${shown(value)}`)
    }
    case "boolean": {
      if (operator !== "eq") return Either.left("a boolean field is compared with eq only")
      const b = value === true || value === "true" ? "true" : value === false || value === "false" ? "false" : undefined
      return b ? Either.right(b) : Either.left(`expected true or false, got ${shown(value)}`)
    }
    case "date":
      return typeof value === "string" && DatePattern.test(value) ? Either.right(value) : Either.left(`expected a date as YYYY-MM-DD, got ${shown(value)}`)
    case "datetime": {
      const at = instant(value)
      return at ? Either.right(at) : Either.left(`expected a date (YYYY-MM-DD) or an ISO 8601 date-time with a time zone, got ${shown(value)}`)
    }
    case "choices":
      return operator === "eq" && !(schema.options ?? []).includes(textOf(value))
        ? Either.left(`expected one of ${(schema.options ?? []).join(", ")}; got ${shown(value)}`)
        : Either.right(textOf(value))
    case "email-address":
      return Either.right(textOf(value).toLowerCase())
    default:
      return Either.right(textOf(value))
  }
}

const columnValue = (column: SearchColumn, value: SearchValue, types: ReadonlyArray<AccountType>): Resolved<string> => {
  switch (column) {
    case "type": {
      const type = types.find((t) => t.id === value || t.name === value)
      return type ? Either.right(type.id) : Either.left(`no account type ${shown(value)}; types: ${types.map((t) => t.name).join(", ") || "none"}`)
    }
    case "status": {
      const statuses = [...new Set(types.flatMap((t) => t.statuses))]
      return statuses.includes(textOf(value)) ? Either.right(textOf(value)) : Either.left(`expected one of ${statuses.join(", ")}; got ${shown(value)}`)
    }
    case "created_at":
    case "updated_at": {
      const at = instant(value)
      return at ? Either.right(at) : Either.left(`expected a date (YYYY-MM-DD) or an ISO 8601 date-time with a time zone, got ${shown(value)}`)
    }
    default:
      return Either.right(textOf(value))
  }
}

const target = (attribute: string, types: ReadonlyArray<AccountType>): Resolved<{ target: SearchTarget; schema?: FieldSchema }> => {
  const column = COLUMNS[attribute]
  if (column) return Either.right({ target: { kind: "column", column } })
  if (attribute.startsWith("fields.")) return fieldTarget(attribute, types)
  if (attribute.startsWith("identifiers.")) return Either.left(`unknown identifier ${JSON.stringify(attribute)}; acct accounts have one: identifiers.reference_id`)
  return Either.left(`unknown attribute ${shown(attribute)}; expected ${SEARCH_ATTRIBUTES.join(", ")} or fields.<searchable field>`)
}

const resolveNode = (node: SearchNode, path: Path, types: ReadonlyArray<AccountType>, issues: Array<Issue>): ResolvedNode | undefined => {
  if ("and" in node || "or" in node) {
    const clause = "and" in node ? "and" : "or"
    const nodes = ("and" in node ? node.and : node.or).map((n, i) => resolveNode(n, [...path, clause, i], types, issues))
    return nodes.every((n) => n !== undefined) ? { kind: clause, nodes: nodes as Array<ResolvedNode> } : undefined
  }
  if ("not" in node) {
    const inner = resolveNode(node.not, [...path, "not"], types, issues)
    return inner && { kind: "not", node: inner }
  }
  const found = target(node.attribute, types)
  if (Either.isLeft(found)) {
    issues.push({ path: [...path, "attribute"], message: found.left })
    return undefined
  }
  const { target: t, schema } = found.right
  if (t.kind === "column" && EQ_ONLY.has(t.column) && node.operator !== "eq") {
    issues.push({ path: [...path, "operator"], message: `${node.attribute} is compared with eq only` })
    return undefined
  }
  const value = t.kind === "column" ? columnValue(t.column, node.value, types) : fieldValue(schema!, node.operator, node.value)
  if (Either.isLeft(value)) {
    issues.push({ path: [...path, value.left.includes("eq only") ? "operator" : "value"], message: `${node.attribute}: ${value.left}` })
    return undefined
  }
  return { kind: "predicate", target: t, operator: node.operator, value: value.right }
}

/**
 * A search checked against the catalog: attributes that exist (fields only where searchable),
 * operators each allows, values of the right kind, normalised as the store keeps them.
 */
export const resolveSearch = (query: Pick<SearchAccountsQuery, "query" | "sort">, types: ReadonlyArray<AccountType>): Either.Either<ResolvedSearch, InvalidRequest> => {
  const issues: Array<Issue> = []
  let where: ResolvedNode | undefined
  if (query.query !== undefined) {
    const shape = parseSearchQuery(query.query)
    if (Either.isLeft(shape)) return Either.left(shape.left)
    where = resolveNode(shape.right, ["query"], types, issues)
  }
  let sort: ResolvedSearch["sort"]
  if (query.sort !== undefined) {
    const shape = parseSearchSort(query.sort)
    if (Either.isLeft(shape)) return Either.left(shape.left)
    const found = target(shape.right.attribute, types)
    if (Either.isLeft(found)) issues.push({ path: ["sort", "attribute"], message: found.left })
    else if (found.right.target.kind === "column" && found.right.target.column === "tags") issues.push({ path: ["sort", "attribute"], message: "accounts cannot be sorted by tags" })
    else sort = { target: found.right.target, direction: shape.right.direction }
  }
  return issues.length > 0 ? Either.left(invalid(issues)) : Either.right({ where, sort })
}
