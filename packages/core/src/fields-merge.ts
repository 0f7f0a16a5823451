/**
 * The update rule for fields: JSON merge patch (RFC 7396) within hash fields. An update names
 * the fields it changes; inside a hash, keys it names change, `null` clears a key, keys it does
 * not name keep their values; arrays and scalars are replaced whole. The CLI's dotted paths
 * (`address.city=Oakland`) and HTTP PATCH (`{"fields":{"name":{"middle":"King"}}}`) both reach
 * the store as such a patch.
 */
import { type FieldSchema, type FieldValue, plainValue } from "./fields.js"

const isPlainObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Persona's typed form `{type, value}`; only a hash's own typed form is unwrapped here. */
const unwrapHash = (input: unknown): unknown =>
  isPlainObject(input) && input.type === "hash" && "value" in input && Object.keys(input).length === 2 ? input.value : input

/**
 * One field's patch applied to its current value, answered as input for `checkValue` (which
 * then validates the whole merged value). Anything that is not a hash patch on a hash field
 * replaces the value; malformed input passes through unchanged for `checkValue` to report.
 */
const mergeValue = (schema: FieldSchema | undefined, current: FieldValue | undefined, input: unknown): unknown => {
  if (schema?.type !== "hash") return input
  const patch = unwrapHash(input)
  if (!isPlainObject(patch)) return input
  const base = current !== undefined && current.type === "hash" && isPlainObject(current.value) ? (current.value as Record<string, FieldValue>) : {}
  const merged: Record<string, unknown> = Object.fromEntries(Object.entries(base).map(([k, v]) => [k, plainValue(v)]))
  for (const [key, value] of Object.entries(patch)) {
    merged[key] = mergeValue(schema.fields?.find((f) => f.key === key), base[key], value)
  }
  return merged
}

/** The given fields merged into the current ones: only the keys of `input`, ready to be checked. */
export const mergeFieldsPatch = (
  schemas: ReadonlyArray<FieldSchema>,
  current: Readonly<Record<string, FieldValue>>,
  input: Readonly<Record<string, unknown>>
): Record<string, unknown> =>
  Object.fromEntries(Object.entries(input).map(([key, value]) => [key, mergeValue(schemas.find((s) => s.key === key), current[key], value)]))
