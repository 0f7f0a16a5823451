/** An edge naming the store's issue paths as its own input does (renameIssuePaths). */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { changedTags, formatIssues, InvalidRequest, renameIssuePaths, Unprocessable } from "../src/index.js"

describe("renameIssuePaths", () => {
  it("says the issues' paths, in the issues and at the end of the message built from them, as the edge names them", () => {
    const issues = [{ path: ["status"], message: "expected one of a, b" }, { path: ["fields", "birthdate"], message: "expected a date" }]
    const error = new Unprocessable({ message: `invalid input: ${formatIssues(issues)}`, issues })
    const renamed = renameIssuePaths(error, (path) => ["data", "attributes", ...path])
    expect(renamed.message).toBe("invalid input: data.attributes.status: expected one of a, b; data.attributes.fields.birthdate: expected a date")
    expect(renamed.issues.map((i) => i.path)).toEqual([["data", "attributes", "status"], ["data", "attributes", "fields", "birthdate"]])
    expect(renamed).toBeInstanceOf(Unprocessable)
  })

  it("keeps a message not built from its issues, and errors without issues", () => {
    const error = new InvalidRequest({ message: "something else", issues: [{ path: ["x"], message: "bad" }] })
    expect(renameIssuePaths(error, () => ["y"]).message).toBe("something else")
    const plain = new InvalidRequest({ message: "no issues" })
    expect(renameIssuePaths(plain, () => ["y"])).toBe(plain)
  })
})

describe("changedTags names the lists it refuses", () => {
  const refusal = (either: Either.Either<unknown, Unprocessable>) => (Either.isLeft(either) ? either.left.message : "accepted")
  it("add and remove by default, at the entry as given (before trimming and duplicates collapse)", () => {
    expect(refusal(changedTags([], { add: ["ok", "a,b"] }))).toMatch(/^invalid tags: add\[1\]: expected a tag/)
    expect(refusal(changedTags([], { add: ["same"], remove: [" other", "other", " same "] }))).toBe('invalid tags: remove[2]: tag "same" is both added and removed')
  })
  it("an action's tag step by its one list, tags", () => {
    expect(refusal(changedTags([], { add: ["a,b"] }, { add: "tags", remove: "tags" }))).toMatch(/^invalid tags: tags\[0\]: expected a tag/)
  })
})
