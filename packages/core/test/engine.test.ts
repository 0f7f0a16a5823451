import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { checkValue, normalizeTags, parseText, runSteps, validateParameters } from "../src/index.js"
import { account, action, userType } from "./fixtures.js"

const now = new Date("2026-03-03T00:00:00.000Z")

describe("validateParameters", () => {
  const setStatus = action({
    name: "Set status",
    parameters: [
      { key: "status", type: "choices", required: true, options: ["activated", "disabled"] },
      { key: "count", type: "integer" }
    ]
  })

  it("accepts valid parameters, plain or Persona-typed", () => {
    expect(validateParameters(setStatus, { status: "activated" })).toEqual(Either.right({ status: "activated", count: null }))
    expect(validateParameters(setStatus, { status: { type: "choices", value: "disabled" }, count: 3 })).toEqual(Either.right({ status: "disabled", count: 3 }))
  })

  it.each([
    [{}, "parameters.status: is required"],
    [{ status: "nope" }, "parameters.status: expected one of activated, disabled; got \"nope\""],
    [{ status: "activated", count: 1.5 }, "parameters.count: expected an integer, got number"],
    [{ status: "activated", extra: 1 }, "parameters.extra: unknown field; expected one of status, count"],
    [{ status: 42 }, "parameters.status: expected a choices string, got number"]
  ])("refuses %j with a message naming the field", (input, message) => {
    const result = validateParameters(setStatus, input)
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      expect(result.left._tag).toBe("Unprocessable")
      expect(result.left.message).toContain(message)
      expect(result.left.issues.length).toBeGreaterThan(0)
    }
  })
})

describe("field values", () => {
  it.each([
    [{ key: "d", type: "date" as const }, "2024-02-30", "expected a date as YYYY-MM-DD"],
    [{ key: "e", type: "email-address" as const }, "not-an-email", "expected an email address"],
    [{ key: "s", type: "string" as const }, "bad\u0000byte", "control characters"],
    [{ key: "s", type: "string" as const }, "lone \ud800 surrogate", "well-formed Unicode"],
    [{ key: "t", type: "datetime" as const }, "2024-01-01T00:00:00", "with a time zone"],
    [{ key: "b", type: "boolean" as const }, "yes", "expected true or false"]
  ])("%j refuses %j", (schema, value, message) => {
    const result = checkValue(schema, value, ["f"])
    expect(Either.isLeft(result) && result.left[0]!.message).toContain(message)
  })

  it("accepts odd but valid unicode", () => {
    expect(Either.isRight(checkValue({ key: "s", type: "string" }, "Zoë 👩‍💻 مرحبا", ["s"]))).toBe(true)
  })

  it("checks nested hashes and arrays with paths", () => {
    const schema = { key: "ids", type: "array" as const, items: { key: "id", type: "hash" as const, fields: [{ key: "n", type: "integer" as const }] } }
    const result = checkValue(schema, [{ n: 1 }, { n: "x" }], ["fields", "ids"])
    expect(Either.isLeft(result) && result.left[0]!.path).toEqual(["fields", "ids", 1, "n"])
  })

  it("parses command-line text by the schema's type", () => {
    expect(parseText({ key: "n", type: "integer" }, "42")).toBe(42)
    expect(parseText({ key: "b", type: "boolean" }, "yes")).toBe(true)
    expect(parseText({ key: "h", type: "hash" }, '{"a":1}')).toEqual({ a: 1 })
    expect(parseText({ key: "s", type: "string" }, "42")).toBe("42")
  })
})

describe("runSteps", () => {
  it("applies every step as one new version", () => {
    const suspend = action({
      parameters: [{ key: "reason", type: "string", required: true }],
      steps: [
        { type: "lifecycle", operation: "disable" },
        { type: "add-tags", tags: ["under-review"] },
        { type: "set-fields", fields: { email_address: "x@y.io" } },
        { type: "emit-event", event: "account.suspended", data: { reason: { param: "reason" } } }
      ]
    })
    const before = account("activated")
    const outcome = Either.getOrThrow(runSteps(userType, before, suspend, { reason: "fraud check" }, now))
    expect(outcome.account.status).toBe("disabled")
    expect(outcome.account.tags).toEqual(["a", "under-review"])
    expect(outcome.account.fields.email_address).toEqual({ type: "email-address", value: "x@y.io" })
    expect(outcome.account.version).toBe(before.version + 1)
    expect(outcome.events).toEqual([{ event: "account.suspended", data: { reason: "fraud check", "account-id": before.id } }])
  })

  it("fails as a whole when a later step fails", () => {
    const broken = action({ steps: [{ type: "add-tags", tags: ["x"] }, { type: "lifecycle", operation: "activate" }] })
    const result = runSteps(userType, account("disabled"), broken, {}, now)
    expect(Either.isLeft(result) && result.left._tag).toBe("InvalidState")
  })

  it("refuses a status the type does not have", () => {
    const set = action({ parameters: [{ key: "status", type: "string" }], steps: [{ type: "set-status", status: { param: "status" } }] })
    const result = runSteps(userType, account("activated"), set, { status: "gone" }, now)
    expect(Either.isLeft(result) && result.left.message).toContain("expected one of pending, activated, deactivated, disabled")
  })
})

describe("tags", () => {
  it("trims, dedupes and refuses bad tags", () => {
    expect(normalizeTags([" a ", "b", "a"])).toEqual(Either.right(["a", "b"]))
    expect(Either.isLeft(normalizeTags(["has,comma"]))).toBe(true)
    expect(Either.isLeft(normalizeTags([""]))).toBe(true)
  })
})
