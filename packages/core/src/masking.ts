/**
 * How an account's field values look wherever acct shows them to people or writes them to a
 * log (Slack messages, CLI tables, log lines): fields the account type marks `pii` are masked,
 * the others are shown as they are. One rule for every surface, following the catalog.
 *
 * A field whose schema is unknown (the type could not be read, or the field is not declared)
 * counts as personal: masking fails closed.
 */
import type { FieldSchema, FieldValue, Fields } from "./fields.js"
import { isEmptyValue, plainValue } from "./fields.js"

export const MASK = "•••"

/** The schema of `key` among a type's field schemas; undefined when unknown. */
export const fieldSchema = (schemas: ReadonlyArray<FieldSchema> | undefined, key: string): FieldSchema | undefined =>
  schemas?.find((schema) => schema.key === key)

/** Whether a field counts as personal data: marked `pii`, or of unknown schema (fail closed). */
export const isPersonal = (schema: FieldSchema | undefined) => schema === undefined || schema.pii === true

/** Plain text of a value: hash parts joined by spaces, array items by commas. */
const plainText = (value: unknown): string => {
  if (value === null || value === undefined) return ""
  if (Array.isArray(value)) return value.map(plainText).filter((v) => v !== "").join(", ")
  if (typeof value === "object") return Object.values(value as Record<string, unknown>).map(plainText).filter((v) => v !== "").join(" ")
  return String(value)
}

/** A masked leaf: enough to tell two people apart in a conversation, not enough to identify one. */
const maskLeaf = (type: string, value: unknown): string => {
  const text = plainText(value)
  if (text === "") return ""
  if (type === "email-address") {
    const at = text.lastIndexOf("@")
    return at > 0 ? `${text.slice(0, 1)}${MASK}${text.slice(at)}` : MASK
  }
  // Free text such as a phone number: its last two characters, when there are enough others.
  if (type === "string") return text.length > 6 ? `${MASK}${text.slice(-2)}` : MASK
  return MASK
}

const maskValue = (field: FieldValue): string => {
  if (field.type === "hash" && typeof field.value === "object" && field.value !== null) {
    // A name or an address: each part by its first letter.
    return Object.values(field.value as Record<string, FieldValue>)
      .map((part) => plainText(plainValue(part)))
      .filter((text) => text !== "")
      .map((text) => `${text.slice(0, 1)}${MASK}`)
      .join(" ")
  }
  if (field.type === "array" && Array.isArray(field.value)) return field.value.length === 0 ? "" : `${MASK} (${field.value.length})`
  return maskLeaf(field.type, plainValue(field))
}

/**
 * A field's value as people may see it: "" when empty, masked when personal (see above), in
 * full otherwise.
 */
export const showField = (schema: FieldSchema | undefined, field: FieldValue | undefined): string => {
  if (field === undefined || isEmptyValue(field)) return ""
  return isPersonal(schema) ? maskValue(field) : plainText(plainValue(field))
}

/** Every field of an account as people may see it, e.g. for a log line. */
export const showFields = (schemas: ReadonlyArray<FieldSchema> | undefined, fields: Fields): Record<string, string> =>
  Object.fromEntries(Object.entries(fields).map(([key, field]) => [key, showField(fieldSchema(schemas, key), field)]))
