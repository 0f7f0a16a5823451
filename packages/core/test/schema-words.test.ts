/** Decode failures in words: which field, what was expected, what came — never Schema's notation. */
import { Either, ParseResult, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { decodeDocument } from "../src/document.js"
import { describeExpected, formatIssues, plainIssues } from "../src/index.js"

const issue = (path: ReadonlyArray<string | number>, message: string) => ({ path, message })
const said = (...issues: Array<ReturnType<typeof issue>>) => formatIssues(plainIssues(issues))

/** Schema's notation for types, which must never reach a person. */
const SCHEMA_NOTATION = /readonly |ReadonlyArray<|\{ readonly|Expected |, actual |\bStruct\b|\bUnion\b|<declaration schema>|<suspended schema>/

describe("decode issues said for people", () => {
  it("names the field, the expected kind of value and what came", () => {
    expect(said(issue(["meta"], "Expected { readonly tag-name: ReadonlyArray<string> }, actual null"))).toBe("meta: expected an object, got null")
    expect(said(issue(["meta", "tag-name"], "Expected ReadonlyArray<string>, actual 5"))).toBe("meta.tag-name: expected a list of strings, got 5")
    expect(said(issue(["page[size]"], 'Unable to decode "abc" into a number'))).toBe('page[size]: expected a number, got "abc"')
    expect(said(issue(["data", "x"], 'is unexpected, expected: "type" | "attributes"'))).toBe("data.x: is not a known field (known: type, attributes)")
    expect(said(issue(["", "a.b"], "is missing"))).toBe('""."a.b": is required')
    expect(said(issue(["name"], 'Expected a string at least 1 character(s) long, actual ""'))).toBe('name: expected a string that is not empty, got ""')
  })

  it("leaves out Schema's second 'Expected undefined' for a bad optional value, and merges literals", () => {
    expect(said(issue(["a"], "Expected string, actual 5"), issue(["a"], "Expected undefined, actual 5"))).toBe("a: expected a string, got 5")
    expect(said(issue(["s"], 'Expected "on", actual "x"'), issue(["s"], 'Expected "off", actual "x"'))).toBe('s: expected one of "on", "off"; got "x"')
  })

  it("says a union of kinds (a list or null) in words, not as a list of Schema's types", () => {
    // Schema reports `tags: ReadonlyArray<string> | null` as one issue per member, like literals.
    const tags = said(issue(["data", "attributes", "tags"], 'Expected ReadonlyArray<string>, actual "x"'), issue(["data", "attributes", "tags"], 'Expected null, actual "x"'))
    expect(tags).toBe('data.attributes.tags: expected a list of strings or null, got "x"')
    expect(tags).not.toMatch(SCHEMA_NOTATION)
    const decoded = Schema.decodeUnknownEither(Schema.Struct({ tags: Schema.NullOr(Schema.Array(Schema.String)) }), { errors: "all" })({ tags: "x" })
    expect(Either.isLeft(decoded) && formatIssues(plainIssues(ParseResult.ArrayFormatter.formatErrorSync(decoded.left)))).toBe('tags: expected a list of strings or null, got "x"')
  })

  it("words types", () => {
    expect(describeExpected('"enable" | "disable"')).toBe('one of "enable", "disable"')
    expect(describeExpected("string | null")).toBe("a string or null")
    expect(describeExpected("readonly [string, ...string[]]")).toBe("a list of strings")
    expect(describeExpected("boolean")).toBe("true or false")
    expect(describeExpected("{ string | filter }")).toBe("an object")
    expect(describeExpected("(Struct (Encoded side) <-> Struct (Type side))")).toBe("a value of another kind")
  })

  it("says a configuration document's problems in the same words (catalogs, profiles and Slack policies decode this way)", () => {
    const Grant = Schema.Struct({ users: Schema.NonEmptyArray(Schema.String), scopes: Schema.Array(Schema.Literal("account.read", "admin")), note: Schema.optional(Schema.String) })
    const Policy = Schema.Struct({ grants: Schema.Array(Grant), limits: Schema.Struct({ perMinute: Schema.Int }) })
    const problem = (raw: unknown) => {
      const result = decodeDocument(Policy, raw, "policy.yaml", "invalid policy")
      return Either.isLeft(result) ? result.left.message : "ok"
    }
    expect(problem(null)).toBe("policy.yaml: invalid policy: expected an object, got null")
    const message = problem({ grants: [{ users: 5, scopes: ["root"], note: 1 }], limits: null, extra: true })
    expect(message).toBe(
      'policy.yaml: invalid policy: extra: is not a known field (known: grants, limits); grants[0].users: expected a list of strings, got 5; grants[0].scopes[0]: expected one of "account.read", "admin"; got "root"; grants[0].note: expected a string, got 1; limits: expected an object, got null'
    )
    expect(message).not.toMatch(SCHEMA_NOTATION)
  })
})
