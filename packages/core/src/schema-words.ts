/**
 * Schema's decode issues said for people: which field, what was expected, what came —
 * `meta.tag-name: expected a list of strings, got null` — never the schema language
 * (`Expected { readonly meta: … }, actual null`). The one home for this wording: HTTP request
 * bodies, catalog files, profiles and Slack policies all go through `plainIssues`.
 */
import type { Issue } from "./errors.js"

/** An issue as Schema's ArrayFormatter reports it (also HttpApiDecodeError's `issues`). */
export interface RawIssue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

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

/** A literal as Schema writes it: a quoted string, a number, true or false. */
const isLiteral = (text: string) => /^".*"$/.test(text) || /^-?\d/.test(text) || text === "true" || text === "false"

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
  if (isLiteral(text)) return text
  if (text.startsWith("{")) return "an object"
  const list = /^(?:ReadonlyArray|Array)<(.*)>$/s.exec(text) ?? /^readonly \[(.*), \.\.\.(.*)\[\]\]$/s.exec(text)
  if (list) {
    const item = describeExpected(list[1]!)
    return `a list of ${item.replace(/^an? /, "").replace(/^(string|number|object)$/, "$1s")}`
  }
  if (text.startsWith("readonly [") || text.startsWith("[")) return "a list"
  // A named schema: `AccountId` → `an account id`.
  if (/^[A-Z][A-Za-z]*$/.test(text)) return article(text.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase())
  // Anything else in Schema's notation (a refinement's name, a transformation) says nothing to a person.
  if (/[{}<>&]|\breadonly\b|\bfilter\b|\bStruct\b|\bUnion\b/.test(text)) return "a value of another kind"
  // Schema's own refinements are words already: `a string at least 1 character(s) long`.
  return text.replace(/^Expected /, "").replace(/ at least 1 character\(s\) long/, " that is not empty").replace(/\b(character|item)\(s\)/g, "$1s")
}

/** A received value, quoted back briefly. */
const describeActual = (actual: string) => {
  const text = actual.trim()
  if (text === "undefined") return "nothing"
  return text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}…` : text
}

/** "expected one of a, b; got x" — a list's commas would swallow ", got". */
const expectedGot = (expected: string, actual: string) => `expected ${expected}${expected.startsWith("one of ") ? ";" : ","} got ${actual}`

/** One issue's message in words. */
export const describeMessage = (message: string): string => {
  const mismatch = /^Expected ([\s\S]*), actual ([\s\S]*)$/.exec(message)
  if (mismatch) return expectedGot(describeExpected(mismatch[1]!), describeActual(mismatch[2]!))
  const notNumber = /^Unable to decode ([\s\S]*) into a number$/.exec(message)
  if (notNumber) return `expected a number, got ${describeActual(notNumber[1]!)}`
  if (message === "is missing") return "is required"
  if (message === "is unexpected") return "is not a known field"
  const unexpected = /^is unexpected, expected: ([\s\S]*)$/.exec(message)
  if (unexpected) return `is not a known field (known: ${topLevel(unexpected[1]!, " | ").map((k) => k.replace(/^"|"$/g, "")).join(", ")})`
  return message
}

const LiteralMismatch = /^Expected ("(?:[^"\\]|\\.)*"|[^,]+), actual (.*)$/s

const keyOf = (path: ReadonlyArray<string | number>) => JSON.stringify(path)

/**
 * Decode issues as issues people can act on, one per path: Schema checks an optional field
 * against its type and against `undefined`, so a bad optional value comes with a second,
 * useless "Expected undefined" issue (left out); a value outside a union is reported once per
 * member (merged: "expected one of …" for literals, the union in words otherwise); every message
 * is put in words.
 */
export const plainIssues = (raw: ReadonlyArray<RawIssue>): ReadonlyArray<Issue> => {
  const all = raw.map((i) => ({ path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: i.message }))
  const prefixOf = (outer: Issue, inner: Issue) => outer.path.length <= inner.path.length && outer.path.every((p, n) => inner.path[n] === p)
  const real = all.filter((issue) => !(issue.message.startsWith("Expected undefined") && all.some((other) => other !== issue && !other.message.startsWith("Expected undefined") && prefixOf(issue, other))))
  const byPath = new Map<string, Array<Issue>>()
  for (const issue of real) byPath.set(keyOf(issue.path), [...(byPath.get(keyOf(issue.path)) ?? []), issue])
  return [...byPath.values()].flatMap((issues) => {
    const literals = issues.map((issue) => LiteralMismatch.exec(issue.message))
    if (issues.length < 2 || literals.some((m) => m === null)) return issues.map((issue) => ({ path: issue.path, message: describeMessage(issue.message) }))
    const members = literals.map((m) => m![1]!)
    // A set of literals is listed; a union of kinds (`ReadonlyArray<string> | null`) is said in words.
    const expected = members.every((m) => isLiteral(m) || m === "null") ? `one of ${members.join(", ")}` : describeExpected(members.join(" | "))
    return [{ path: issues[0]!.path, message: expectedGot(expected, describeActual(literals[0]![2]!)) }]
  })
}
