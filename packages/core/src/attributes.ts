/**
 * Persona's flat account attributes (`name-first`, `email-address`, `address-city`, …): the
 * create and update requests, and the importer's CSV columns (`name_first`), name a person's
 * data this way, while acct keeps it in the account type's fields. Each account type says in the
 * catalog which field each attribute sets (`attributes: { name-first: name.first }`); these
 * pure functions check that mapping and turn flat attributes into a fields patch.
 */
import { Either, Schema } from "effect"
import type { Issue } from "./errors.js"
import type { FieldSchema } from "./fields.js"

/** Every flat attribute of Persona's account requests (create and update). */
export const FLAT_ATTRIBUTES = [
  "name-first",
  "name-middle",
  "name-last",
  "email-address",
  "phone-number",
  "birthdate",
  "address-street-1",
  "address-street-2",
  "address-city",
  "address-subdivision",
  "address-postal-code",
  "country-code",
  "social-security-number",
  "selfie-photo"
] as const
export const FlatAttribute = Schema.Literal(...FLAT_ATTRIBUTES)
export type FlatAttribute = typeof FlatAttribute.Type

/** A field, or a key inside a hash field: `email_address`, `name.first`. */
const FieldPath = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z][A-Za-z0-9_-]{0,63}(\.[A-Za-z][A-Za-z0-9_-]{0,63})*$/, { message: () => "a field path is a field key, or keys joined by dots (name.first)" })
)

/** The catalog's mapping: which field (path) each flat attribute sets. */
export const AttributeMapping = Schema.partial(Schema.Record({ key: FlatAttribute, value: FieldPath }))
export type AttributeMapping = typeof AttributeMapping.Type

/** The attribute's canonical name for a key in kebab-case or snake_case (`name_first` → `name-first`). */
export const flatAttributeName = (key: string): FlatAttribute | undefined => {
  const name = key.replace(/_/g, "-")
  return (FLAT_ATTRIBUTES as ReadonlyArray<string>).includes(name) ? (name as FlatAttribute) : undefined
}

/** Whether the key names a flat attribute (kebab-case or snake_case). */
export const isFlatAttribute = (key: string) => flatAttributeName(key) !== undefined

/** The schema at a dotted path of a type's fields, or why there is none. */
const schemaAt = (fields: ReadonlyArray<FieldSchema>, path: string): FieldSchema | string => {
  let level = fields
  let found: FieldSchema | undefined
  for (const [i, key] of path.split(".").entries()) {
    if (i > 0 && found?.type !== "hash") return `${path.split(".").slice(0, i).join(".")} is not a hash field`
    found = level.find((f) => f.key === key)
    if (!found) return `no field ${path.split(".").slice(0, i + 1).join(".")} (fields: ${level.map((f) => f.key).join(", ") || "none"})`
    level = found.fields ?? []
  }
  return found!
}

/** Rules for a type's mapping: every path exists, leads to a scalar-like field, and is used once. */
export const checkAttributeMapping = (fields: ReadonlyArray<FieldSchema>, mapping: AttributeMapping): ReadonlyArray<Issue> => {
  const issues: Array<Issue> = []
  const seen = new Map<string, string>()
  for (const [attribute, path] of Object.entries(mapping)) {
    if (path === undefined) continue
    const at = ["attributes", attribute]
    const schema = schemaAt(fields, path)
    if (typeof schema === "string") {
      issues.push({ path: at, message: schema })
      continue
    }
    if (schema.type === "hash" || schema.type === "array") issues.push({ path: at, message: `${path} is a ${schema.type} field; an attribute sets one value` })
    if (attribute === "selfie-photo" && schema.type !== "file") issues.push({ path: at, message: `selfie-photo sets a file field; ${path} is a ${schema.type} field` })
    const other = seen.get(path)
    if (other !== undefined) issues.push({ path: at, message: `${path} is already set by ${other}` })
    seen.set(path, attribute)
  }
  return issues
}

const isPlainObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Persona sends a selfie as `{ data: { data: <base64>, filename } }`. acct keeps a file field's
 * metadata (name and size), not its bytes: the image itself is not stored.
 */
const selfieValue = (value: unknown): unknown => {
  if (!isPlainObject(value) || !("data" in value)) return value
  const file = value.data
  if (file === null) return null
  if (!isPlainObject(file) || typeof file.filename !== "string") return value
  const bytes = typeof file.data === "string" ? Math.floor((file.data.replace(/=+$/, "").length * 3) / 4) : undefined
  return { filename: file.filename, ...(bytes !== undefined ? { "byte-size": bytes } : {}) }
}

/**
 * The fields patch that flat attributes stand for under a type's mapping: `{ "name-first":
 * "Jane", "email-address": "j@d.c" }` → `{ name: { first: "Jane" }, email_address: "j@d.c" }`.
 * Keys may be kebab-case or snake_case; keys that are not flat attributes are not looked at. An
 * attribute the type does not map is an issue that says so. Values are not checked here: the
 * fields patch is checked against the type like any other.
 */
export const flatAttributesToFields = (
  mapping: AttributeMapping | undefined,
  attributes: Readonly<Record<string, unknown>>,
  path: ReadonlyArray<string> = []
): Either.Either<Record<string, unknown>, ReadonlyArray<Issue>> => {
  const fields: Record<string, unknown> = {}
  const issues: Array<Issue> = []
  for (const [key, raw] of Object.entries(attributes)) {
    const attribute = flatAttributeName(key)
    if (attribute === undefined || raw === undefined) continue
    const target = mapping?.[attribute]
    if (target === undefined) {
      const mapped = Object.keys(mapping ?? {})
      issues.push({ path: [...path, key], message: `this account type does not map ${attribute} to a field (it maps: ${mapped.join(", ") || "none"})` })
      continue
    }
    const keys = target.split(".")
    let level = fields
    for (const part of keys.slice(0, -1)) {
      const next = level[part]
      level = isPlainObject(next) ? next : (level[part] = {})
    }
    level[keys.at(-1)!] = attribute === "selfie-photo" ? selfieValue(raw) : raw
  }
  return issues.length > 0 ? Either.left(issues) : Either.right(fields)
}

/** Persona's typed hash `{type: "hash", value}` as its plain value (anything else unchanged). */
const hashValue = (u: unknown): unknown => (isPlainObject(u) && u.type === "hash" && "value" in u && Object.keys(u).length === 2 ? u.value : u)

/**
 * `fields` and the fields flat attributes set, as one patch. Hashes merge key by key; a value
 * set both ways is an issue naming both (which one wins is not for acct to guess).
 */
export const mergeAttributeFields = (
  fields: Readonly<Record<string, unknown>>,
  fromAttributes: Readonly<Record<string, unknown>>,
  path: ReadonlyArray<string> = ["fields"]
): Either.Either<Record<string, unknown>, ReadonlyArray<Issue>> => {
  const issues: Array<Issue> = []
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>, at: ReadonlyArray<string>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...a }
    for (const [key, value] of Object.entries(b)) {
      if (!(key in out) || out[key] === undefined) {
        out[key] = value
        continue
      }
      const left = hashValue(out[key])
      if (isPlainObject(left) && isPlainObject(value)) out[key] = merge(left, value, [...at, key])
      else issues.push({ path: [...at, key], message: `is set twice: in fields and by a flat attribute` })
    }
    return out
  }
  const merged = merge({ ...fields }, fromAttributes, path)
  return issues.length > 0 ? Either.left(issues) : Either.right(merged)
}
