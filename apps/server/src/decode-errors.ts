/**
 * A request that does not fit the wire schema, said for people: which field, what was expected,
 * what came — `meta.tag-name: expected a list of strings, got null` — never the schema
 * language (`Expected { readonly meta: … }, actual null`).
 */
import { OPAQUE_KEYS } from "@acct/api"
import type { HttpApiError } from "@effect/platform"

type DecodeIssue = HttpApiError.HttpApiDecodeError["issues"][number]

/**
 * How a key of the request is named back to its sender: the wire schemas are kebab-case, and a
 * body in another Key-Inflection was turned into kebab-case before it was decoded, so the caller
 * passes the inverse (`account-type-id` → `accountTypeId`). Keys under `fields` and
 * `parameters` are the account type's own and are never renamed.
 */
export type KeyNamer = (key: string) => string
const asIs: KeyNamer = (key) => key

/** The longest received value quoted back. */
const QUOTE_MAX = 60

const article = (noun: string) => (/^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`)

/** Splits `A | B | C` at the top level (not inside braces, brackets or quotes). */
const topLevel = (text: string, separator: string): Array<string> => {
  const parts: Array<string> = []
  let depth = 0
  let quoted = false
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '"' && text[i - 1] !== "\\") quoted = !quoted
    if (quoted) continue
    if (c === "{" || c === "[" || c === "<" || c === "(") depth++
    else if (c === "}" || c === "]" || c === ">" || c === ")") depth--
    else if (depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i))
      start = i + separator.length
      i += separator.length - 1
    }
  }
  parts.push(text.slice(start))
  return parts.map((part) => part.trim())
}

const PRIMITIVES: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  null: "null",
  undefined: "nothing",
  unknown: "any value",
  object: "an object",
  NonEmptyString: "a non-empty string",
  NumberFromString: "a number",
  BooleanFromString: "true or false",
  Int: "a whole number",
  NonNegativeInt: "a whole number ≥ 0",
  DateTimeUtc: "a date-time (ISO 8601)",
  DateFromString: "a date (ISO 8601)"
}

/** A schema's description of a type, as words. */
export const describeExpected = (type: string): string => {
  const text = type.trim()
  const alternatives = topLevel(text, " | ")
  if (alternatives.length > 1) {
    const words = [...new Set(alternatives.filter((a) => a !== "undefined").map(describeExpected))]
    if (words.every((w) => w.startsWith('"'))) return `one of ${words.join(", ")}`
    return words.length === 1 ? words[0]! : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`
  }
  if (PRIMITIVES[text]) return PRIMITIVES[text]
  if (/^".*"$/.test(text) || /^-?\d/.test(text) || text === "true" || text === "false") return text
  if (text.startsWith("{")) return "an object"
  const list = /^(?:ReadonlyArray|Array)<(.*)>$/s.exec(text) ?? /^readonly \[(.*), \.\.\.(.*)\[\]\]$/s.exec(text)
  if (list) {
    const item = describeExpected(list[1]!)
    return `a list of ${item.replace(/^an? /, "").replace(/^(string|number|object)$/, "$1s")}`
  }
  if (text.startsWith("readonly [") || text.startsWith("[")) return "a list"
  // A refinement or a named schema: `a string matching the pattern ^act_…$`, `AccountId`.
  if (/^[A-Z][A-Za-z]*$/.test(text)) return article(text.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase())
  return text.replace(/^Expected /, "")
}

/** A received value, quoted back briefly. */
const describeActual = (actual: string) => {
  const text = actual.trim()
  if (text === "undefined") return "nothing"
  return text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}…` : text
}

/** One issue's message in words (known field names as `name` gives them). */
export const describeMessage = (message: string, name: KeyNamer = asIs): string => {
  const mismatch = /^Expected ([\s\S]*), actual ([\s\S]*)$/.exec(message)
  if (mismatch) return `expected ${describeExpected(mismatch[1]!)}, got ${describeActual(mismatch[2]!)}`
  const notNumber = /^Unable to decode ([\s\S]*) into a number$/.exec(message)
  if (notNumber) return `expected a number, got ${describeActual(notNumber[1]!)}`
  if (message === "is missing") return "is required"
  if (message === "is unexpected") return "is not a known field"
  const unexpected = /^is unexpected, expected: ([\s\S]*)$/.exec(message)
  if (unexpected) return `is not a known field (known: ${topLevel(unexpected[1]!, " | ").map((k) => name(k.replace(/^"|"$/g, ""))).join(", ")})`
  return message
}

/** A field's path, `data.attributes.reference-id`; odd keys (empty, with dots or spaces) quoted. */
const where = (issue: DecodeIssue, name: KeyNamer = asIs) => {
  let opaque = false
  return issue.path
    .map((key) => {
      const text = String(key)
      const shown = opaque || typeof key !== "string" ? text : name(text)
      if (OPAQUE_KEYS.has(text)) opaque = true
      return /^[\w\-[\]]+$/.test(shown) ? shown : JSON.stringify(shown)
    })
    .join(".")
}

/**
 * A decode failure as one line: `field: problem; …`, each issue's keys named by `namerOf(issue)`
 * (the body's in the sender's inflection; path parameters, query parameters and headers keep
 * the spec's names). Schema checks an optional field against
 * its type and against `undefined`, so each bad optional value comes with a second, useless
 * "Expected undefined" issue for the same path: that one is left out.
 */
export const describeIssues = (issues: ReadonlyArray<DecodeIssue>, namerOf: (issue: DecodeIssue) => KeyNamer = () => asIs): string =>
  issues
    .filter((issue) => !(issue.message.startsWith("Expected undefined") && issues.some((other) => other !== issue && where(other) === where(issue))))
    .map((issue) => {
      const name = namerOf(issue)
      const message = describeMessage(issue.message, name)
      if (issue.path.length > 0) return `${where(issue, name)}: ${message}`
      return message.startsWith("expected an object") ? `the request body must be a JSON object${message.slice("expected an object".length)}` : message
    })
    .join("; ")
