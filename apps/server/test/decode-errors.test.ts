/** A request that does not fit the wire schema, said in core's words; a non-object body as such. */
import { describe, expect, it } from "vitest"
import { describeRequestIssues } from "../src/decode-errors.js"

describe("request decode failures", () => {
  it("says a body that is not an object, and names fields otherwise", () => {
    expect(describeRequestIssues([{ path: [], message: "Expected { readonly meta: { readonly tag-name: ReadonlyArray<string> } }, actual null" }])).toBe("the request body must be a JSON object, got null")
    expect(describeRequestIssues([{ path: ["meta", "tag-name"], message: "Expected ReadonlyArray<string>, actual 5" }, { path: ["data", "x"], message: "is unexpected" }])).toBe(
      "meta.tag-name: expected a list of strings, got 5; data.x: is not a known field"
    )
  })
})
