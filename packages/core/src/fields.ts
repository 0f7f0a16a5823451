/**
 * Typed field values, as Persona sends them: every value is `{ type, value }`, hashes and arrays
 * nest further typed values. An account type declares its fields with `FieldSchema`s; action
 * parameters use the same schemas. `checkValue` turns user input (typed or plain) into a typed
 * value or into issues that name the field.
 */
import { Either, Schema } from "effect"
import type { Issue } from "./errors.js"

export const FieldType = Schema.Literal(
  "string",
  "hash",
  "array",
  "date",
  "datetime",
  "number",
  "integer",
  "boolean",
  "email-address",
  "choices",
  "file"
).annotations({
  message: (issue) => ({
    message: `expected a field type (string, hash, array, date, datetime, number, integer, boolean, email-address, choices, file), got ${JSON.stringify(issue.actual)}`,
    override: true
  })
})
export type FieldType = typeof FieldType.Type

export interface FieldSchema {
  readonly key: string
  readonly type: FieldType
  readonly label?: string | undefined
  readonly required?: boolean | undefined
  /** Personal data: masked when shown in chat, wiped on redaction either way. */
  readonly pii?: boolean | undefined
  /** `choices`: the allowed values. */
  readonly options?: ReadonlyArray<string> | undefined
  /** `hash`: the keys it may hold. */
  readonly fields?: ReadonlyArray<FieldSchema> | undefined
  /** `array`: the schema of every item (its key is ignored). */
  readonly items?: FieldSchema | undefined
}

const KeyPattern = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/

export const FieldSchema: Schema.Schema<FieldSchema> = Schema.Struct({
  key: Schema.String.pipe(
    Schema.pattern(KeyPattern, { message: () => "a key is a letter followed by up to 63 letters, digits, _ or -" })
  ),
  type: FieldType,
  label: Schema.optional(Schema.String),
  required: Schema.optional(Schema.Boolean),
  pii: Schema.optional(Schema.Boolean),
  options: Schema.optional(Schema.Array(Schema.String)),
  fields: Schema.optional(Schema.Array(Schema.suspend((): Schema.Schema<FieldSchema> => FieldSchema))),
  items: Schema.optional(Schema.suspend((): Schema.Schema<FieldSchema> => FieldSchema))
}).pipe(
  Schema.filter((f) => {
    if (f.type === "choices" && (f.options === undefined || f.options.length === 0)) {
      return { path: ["options"], message: "a choices field needs a non-empty options list" }
    }
    if (f.type === "hash" && f.fields === undefined) return { path: ["fields"], message: "a hash field needs fields" }
    if (f.type === "array" && f.items === undefined) return { path: ["items"], message: "an array field needs items" }
    return undefined
  })
)

/** A typed value: `{ type: "string", value: "Jane" }`, `{ type: "hash", value: { first: … } }`. */
export interface FieldValue {
  readonly type: string
  readonly value: unknown
}
export const FieldValue: Schema.Schema<FieldValue> = Schema.Struct({ type: Schema.String, value: Schema.Unknown })
export const Fields = Schema.Record({ key: Schema.String, value: FieldValue })
export type Fields = typeof Fields.Type

const MAX_TEXT = 4096
const EmailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const DatePattern = /^\d{4}-\d{2}-\d{2}$/
const DateTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/
// C0 controls other than tab, newline and carriage return; NUL breaks C strings downstream.
// eslint-disable-next-line no-control-regex
const ControlChars = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/

/** Text we are willing to store: well-formed Unicode (no lone surrogates), no control characters. */
export const textProblem = (s: string, max = MAX_TEXT): string | undefined => {
  if (s.length > max) return `must be at most ${max} characters`
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) return "must be well-formed Unicode (found a lone surrogate)"
  if (ControlChars.test(s)) return "must not contain control characters"
  return undefined
}

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const isTyped = (u: unknown): u is FieldValue =>
  isPlainObject(u) && typeof u.type === "string" && "value" in u && Object.keys(u).length === 2

const describe = (u: unknown): string =>
  u === null ? "null" : Array.isArray(u) ? "an array" : typeof u === "string" ? JSON.stringify(u).slice(0, 60) : typeof u

type Check = Either.Either<FieldValue, ReadonlyArray<Issue>>
const fail = (path: ReadonlyArray<string | number>, message: string): Check => Either.left([{ path, message }])
const ok = (type: FieldType, value: unknown): Check => Either.right({ type, value })

const checkText = (schema: FieldSchema, raw: unknown, path: ReadonlyArray<string | number>): Check => {
  if (typeof raw !== "string") return fail(path, `expected ${schema.type === "string" ? "a string" : `a ${schema.type} string`}, got ${describe(raw)}`)
  const problem = textProblem(raw)
  if (problem) return fail(path, problem)
  switch (schema.type) {
    case "email-address":
      return EmailPattern.test(raw) ? ok(schema.type, raw) : fail(path, `expected an email address, got ${describe(raw)}`)
    case "date":
      return DatePattern.test(raw) && !Number.isNaN(Date.parse(raw)) && new Date(raw).toISOString().startsWith(raw)
        ? ok(schema.type, raw)
        : fail(path, `expected a date as YYYY-MM-DD, got ${describe(raw)}`)
    case "datetime":
      return DateTimePattern.test(raw) && !Number.isNaN(Date.parse(raw))
        ? ok(schema.type, raw)
        : fail(path, `expected an ISO 8601 date-time with a time zone, got ${describe(raw)}`)
    case "choices": {
      const options = schema.options ?? []
      return options.includes(raw) ? ok(schema.type, raw) : fail(path, `expected one of ${options.join(", ")}; got ${describe(raw)}`)
    }
    default:
      return ok(schema.type, raw)
  }
}

/**
 * A hash keeps every key of its schema (a missing one is `null`), as Persona's `name.middle`
 * does, except a hash that is an array item: Persona's item schemas type their values as
 * strings, never null (`identification_numbers[].issuing_country`), so a key not given is left
 * out there.
 */
const checkHash = (schema: FieldSchema, raw: unknown, path: ReadonlyArray<string | number>, asItem = false): Check => {
  if (!isPlainObject(raw)) return fail(path, `expected an object, got ${describe(raw)}`)
  const known = schema.fields ?? []
  const issues: Array<Issue> = []
  const value: Record<string, FieldValue> = {}
  for (const key of Object.keys(raw)) {
    if (!known.some((f) => f.key === key)) {
      issues.push({ path: [...path, key], message: `unknown key; expected one of ${known.map((f) => f.key).join(", ")}` })
    }
  }
  for (const field of known) {
    const result = checkValue(field, raw[field.key], [...path, field.key])
    if (Either.isLeft(result)) issues.push(...result.left)
    else if (!(asItem && result.right.value === null)) value[field.key] = result.right
  }
  return issues.length > 0 ? Either.left(issues) : ok("hash", value)
}

const checkArray = (schema: FieldSchema, raw: unknown, path: ReadonlyArray<string | number>): Check => {
  if (!Array.isArray(raw)) return fail(path, `expected an array, got ${describe(raw)}`)
  if (raw.length > 1000) return fail(path, "must have at most 1000 items")
  const items = schema.items ?? { key: "item", type: "string" }
  const issues: Array<Issue> = []
  const value: Array<FieldValue> = []
  raw.forEach((item, index) => {
    const result = items.type === "hash" ? checkItemHash(items, item, [...path, index]) : checkValue(items, item, [...path, index])
    if (Either.isLeft(result)) issues.push(...result.left)
    else value.push(result.right)
  })
  return issues.length > 0 ? Either.left(issues) : ok("array", value)
}

const checkItemHash = (schema: FieldSchema, input: unknown, path: ReadonlyArray<string | number>): Check => {
  if (isTyped(input) && input.type !== "hash") return fail(path, `expected type hash, got type ${JSON.stringify(input.type)}`)
  const raw = isTyped(input) ? input.value : input
  if (raw === undefined || raw === null) return fail(path, "expected an object, got null")
  return checkHash(schema, raw, path, true)
}

const checkFile = (raw: unknown, path: ReadonlyArray<string | number>): Check => {
  if (!isPlainObject(raw) || typeof raw.filename !== "string") {
    return fail(path, `expected file metadata { filename, url?, byte-size? }, got ${describe(raw)}`)
  }
  const problem = textProblem(raw.filename, 255)
  if (problem) return fail([...path, "filename"], problem)
  if (raw.url !== undefined && typeof raw.url !== "string") return fail([...path, "url"], "expected a string")
  const size = raw["byte-size"]
  if (size !== undefined && !(Number.isInteger(size) && (size as number) >= 0)) {
    return fail([...path, "byte-size"], "expected a non-negative integer")
  }
  return ok("file", { filename: raw.filename, ...(raw.url !== undefined ? { url: raw.url } : {}), ...(size !== undefined ? { "byte-size": size } : {}) })
}

/**
 * Validates one value against its schema. Accepts Persona's typed form (`{type, value}`, whose
 * type must match) or the plain value; always answers the typed form.
 */
export const checkValue = (schema: FieldSchema, input: unknown, path: ReadonlyArray<string | number>): Check => {
  let raw = input
  if (isTyped(input)) {
    if (input.type !== schema.type) return fail(path, `expected type ${schema.type}, got type ${JSON.stringify(input.type)}`)
    raw = input.value
  }
  if (raw === undefined || raw === null) {
    if (schema.required) return fail(path, "is required")
    // Persona never sends a null hash or array: a hash keeps its keys (each null), an array is empty.
    if (schema.type === "hash") return checkHash(schema, {}, path)
    if (schema.type === "array") return ok("array", [])
    return ok(schema.type, null)
  }
  switch (schema.type) {
    case "number":
      return typeof raw === "number" && Number.isFinite(raw) ? ok(schema.type, raw) : fail(path, `expected a number, got ${describe(raw)}`)
    case "integer":
      return Number.isSafeInteger(raw) ? ok(schema.type, raw) : fail(path, `expected an integer, got ${describe(raw)}`)
    case "boolean":
      return typeof raw === "boolean" ? ok(schema.type, raw) : fail(path, `expected true or false, got ${describe(raw)}`)
    case "hash":
      return checkHash(schema, raw, path)
    case "array":
      return checkArray(schema, raw, path)
    case "file":
      return checkFile(raw, path)
    default:
      return checkText(schema, raw, path)
  }
}

/**
 * Reads a value typed on a command line (`status=activated`, `age=42`, `name={"first":"Jane"}`)
 * as the schema's type, so `checkValue` sees a number for a number field.
 */
export const parseText = (schema: FieldSchema, text: string): unknown => {
  switch (schema.type) {
    case "number":
    case "integer":
      return text.trim() !== "" && !Number.isNaN(Number(text)) ? Number(text) : text
    case "boolean": {
      const t = text.trim().toLowerCase()
      return ["true", "yes", "1"].includes(t) ? true : ["false", "no", "0"].includes(t) ? false : text
    }
    case "hash":
    case "array":
    case "file":
      try {
        return JSON.parse(text)
      } catch {
        return text
      }
    default:
      return text
  }
}

/** Checks a whole set of fields against a type's schemas; unknown keys are issues too. */
export const checkFields = (
  schemas: ReadonlyArray<FieldSchema>,
  input: Readonly<Record<string, unknown>>,
  path: ReadonlyArray<string | number>,
  mode: "all" | "patch"
): Either.Either<Fields, ReadonlyArray<Issue>> => {
  const issues: Array<Issue> = []
  const out: Record<string, FieldValue> = {}
  for (const key of Object.keys(input)) {
    if (!schemas.some((s) => s.key === key)) {
      issues.push({ path: [...path, key], message: `unknown field; expected one of ${schemas.map((s) => s.key).join(", ")}` })
    }
  }
  for (const schema of schemas) {
    if (mode === "patch" && !(schema.key in input)) continue
    const result = checkValue(schema, input[schema.key], [...path, schema.key])
    if (Either.isLeft(result)) issues.push(...result.left)
    else out[schema.key] = result.right
  }
  return issues.length > 0 ? Either.left(issues) : Either.right(out)
}

/** Drops a value but keeps its shape: a hash keeps its keys (each wiped), an array empties. */
const redactValue = (field: FieldValue): FieldValue =>
  field.type === "hash" && isPlainObject(field.value)
    ? { type: "hash", value: Object.fromEntries(Object.entries(field.value).map(([k, v]) => [k, redactValue(v as FieldValue)])) }
    : field.type === "array"
      ? { type: "array", value: [] }
      : { type: field.type, value: null }

/** Redaction keeps each field's type and shape and drops every value. */
export const redactFields = (fields: Fields): Fields =>
  Object.fromEntries(Object.entries(fields).map(([key, field]) => [key, redactValue(field)]))

/** True when no value is left anywhere in the field (as after redaction). */
export const isEmptyValue = (field: FieldValue): boolean =>
  field.value === null ||
  (Array.isArray(field.value) && field.value.length === 0) ||
  (isPlainObject(field.value) && Object.values(field.value).every((v) => isEmptyValue(v as FieldValue)))

/** Unwraps typed values into plain JSON (`{type:"string", value:"Jane"}` → `"Jane"`). */
export const plainValue = (field: FieldValue): unknown => {
  if (field.value === null) return null
  if (field.type === "hash" && isPlainObject(field.value)) {
    return Object.fromEntries(Object.entries(field.value).map(([k, v]) => [k, plainValue(v as FieldValue)]))
  }
  if (field.type === "array" && Array.isArray(field.value)) return field.value.map((v) => plainValue(v as FieldValue))
  return field.value
}
