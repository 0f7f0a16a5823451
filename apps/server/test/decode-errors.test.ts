/** Decode failures in words: which field, what was expected, what came. */
import { describe, expect, it } from "vitest"
import { describeExpected, describeIssues } from "../src/decode-errors.js"

const issue = (path: ReadonlyArray<string | number>, message: string) => ({ _tag: "Type" as const, path, message })

describe("decode failures said for people", () => {
  it("names the field, the expected kind of value and what came, without Schema's notation", () => {
    expect(describeIssues([issue(["meta"], 'Expected { readonly tag-name: ReadonlyArray<string> }, actual null')])).toBe("meta: expected an object, got null")
    expect(describeIssues([issue([], "Expected { readonly meta: { readonly tag-name: ReadonlyArray<string> } }, actual null")])).toBe("the request body must be a JSON object, got null")
    expect(describeIssues([issue(["meta", "tag-name"], "Expected ReadonlyArray<string>, actual 5")])).toBe("meta.tag-name: expected a list of strings, got 5")
    expect(describeIssues([issue(["page[size]"], 'Unable to decode "abc" into a number')])).toBe('page[size]: expected a number, got "abc"')
    expect(describeIssues([issue(["data", "x"], "is unexpected, expected: \"type\" | \"attributes\"")])).toBe("data.x: is not a known field (known: type, attributes)")
    expect(describeIssues([issue(["", "a.b"], "is missing")])).toBe('""."a.b": is required')
  })

  it("words types", () => {
    expect(describeExpected('"enable" | "disable"')).toBe('one of "enable", "disable"')
    expect(describeExpected("string | null")).toBe("a string or null")
    expect(describeExpected("readonly [string, ...string[]]")).toBe("a list of strings")
    expect(describeExpected("boolean")).toBe("true or false")
  })
})
