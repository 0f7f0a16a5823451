/**
 * Persona's Key-Inflection: the same document with its keys in kebab-case (the default),
 * camelCase or snake_case. The wire schemas are written in kebab-case; the edge turns a request's
 * keys into kebab-case before they are decoded and a response's into the caller's inflection after
 * they are encoded. Keys inside `fields` (and an action's `parameters`) belong to the account
 * type and are never inflected, in either direction.
 */

export const KEY_INFLECTIONS = ["kebab", "camel", "snake"] as const
export type KeyInflection = (typeof KEY_INFLECTIONS)[number]

/** The header's value as an inflection: absent or empty means kebab; anything else unknown is `undefined`. */
export const parseKeyInflection = (header: string | undefined): KeyInflection | undefined => {
  const value = (header ?? "").trim().toLowerCase()
  if (value === "") return "kebab"
  return (KEY_INFLECTIONS as ReadonlyArray<string>).includes(value) ? (value as KeyInflection) : undefined
}

/** Objects whose own keys are data (an account type's field names), never inflected. */
export const OPAQUE_KEYS: ReadonlySet<string> = new Set(["fields", "parameters"])

/**
 * A key's words, whatever its inflection: split at `-`, `_`, a lower-to-upper change and a
 * letter-to-digit change (`addressStreet1` → address, street, 1, as `address-street-1`).
 */
const words = (key: string): ReadonlyArray<string> =>
  key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Za-z])([0-9])/g, "$1 $2")
    .split(/[\s_-]+/)
    .filter((word) => word !== "")
    .map((word) => word.toLowerCase())

const cache: Record<KeyInflection, Map<string, string>> = { kebab: new Map(), camel: new Map(), snake: new Map() }

/** One key in an inflection (from any of the three). Keys starting with `$` or holding other characters stay as they are. */
export const inflectKey = (key: string, inflection: KeyInflection): string => {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(key)) return key
  const known = cache[inflection].get(key)
  if (known !== undefined) return known
  const parts = words(key)
  const inflected =
    inflection === "kebab"
      ? parts.join("-")
      : inflection === "snake"
        ? parts.join("_")
        : parts.map((word, i) => (i === 0 ? word : word[0]!.toUpperCase() + word.slice(1))).join("")
  // Keys are a small, fixed vocabulary (the wire schemas'); bound the cache against odd input.
  if (cache[inflection].size < 10_000) cache[inflection].set(key, inflected)
  return inflected
}

/**
 * The value with every object key in `inflection`, except inside the objects under the
 * `opaque` keys. Kebab-case input to kebab-case is the value itself (nothing copied).
 */
export const inflectKeys = (value: unknown, inflection: KeyInflection, opaque: ReadonlySet<string> = OPAQUE_KEYS): unknown => {
  if (Array.isArray(value)) {
    let changed = false
    const out = value.map((item) => {
      const next = inflectKeys(item, inflection, opaque)
      if (next !== item) changed = true
      return next
    })
    return changed ? out : value
  }
  if (typeof value !== "object" || value === null) return value
  let changed = false
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    const name = inflectKey(key, inflection)
    const next = opaque.has(name) || opaque.has(key) ? item : inflectKeys(item, inflection, opaque)
    if (name !== key || next !== item) changed = true
    out[name] = next
  }
  return changed ? out : value
}
