import { Conflict, InvalidState, NotFound, Unauthorized } from "@acct/core"
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { PersonaErrors } from "../src/index.js"

const { schemas, toPersonaError } = PersonaErrors
const all = Object.values(schemas)
// HttpApi encodes a failure with the first schema of the union that accepts it.
const union = Schema.Union(...all)

describe("Persona error schemas", () => {
  it.each([
    [new NotFound({ entity: "account", ref: "x", message: "account x not found" }), 404, { errors: [{ title: "Record not found", details: "account x not found" }] }],
    [new Unauthorized({ message: "Token is invalid" }), 401, { errors: [{ title: "Token is invalid" }] }],
    [new InvalidState({ currentStatus: "disabled", message: "cannot activate" }), 409, { errors: [{ title: "Invalid state", details: "cannot activate" }] }],
    [new Conflict({ message: "changed" }), 409, { errors: [{ title: "Conflict", details: "changed" }] }]
  ])("%s → status %i with exactly Persona's body", (error, status, body) => {
    const wire = toPersonaError(error)
    // Every class has the same shape, so only an instance check can pick the right schema.
    const chosen = all.filter((s) => Schema.is(s)(wire))
    expect(chosen).toHaveLength(1)
    expect(HttpApiSchema.getStatusError(chosen[0]!)).toBe(status)
    expect(Schema.encodeSync(union)(wire)).toEqual(body)
  })
})
