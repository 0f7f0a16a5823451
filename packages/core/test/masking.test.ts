import { describe, expect, it } from "vitest"
import { type FieldSchema, showField, showFields } from "../src/index.js"

const text = (key: string): FieldSchema => ({ key, type: "string" })
const schemas: ReadonlyArray<FieldSchema> = [
  { key: "name", type: "hash", pii: true, fields: [text("first"), text("middle"), text("last")] },
  { key: "email_address", type: "email-address", pii: true },
  { key: "phone_number", type: "string", pii: true },
  { key: "birthdate", type: "date", pii: true },
  { key: "identification_numbers", type: "array", pii: true, items: text("number") },
  { key: "plan", type: "string" },
  { key: "seats", type: "integer" }
]
const s = (value: string | null) => ({ type: "string", value })
const fields = {
  name: { type: "hash", value: { first: s("Jane"), middle: s("Marie"), last: s("Doe") } },
  email_address: { type: "email-address", value: "jane@doe.com" },
  phone_number: s("111-222-3333"),
  birthdate: { type: "date", value: "1994-12-30" },
  identification_numbers: { type: "array", value: [s("12345678"), s("87654321")] },
  plan: s("enterprise"),
  seats: { type: "integer", value: 40 },
  undeclared: s("secret-ish")
}

describe("masking follows the catalog's pii flags", () => {
  it("masks every pii field, shows the others, and masks what the catalog does not declare", () => {
    expect(showFields(schemas, fields)).toEqual({
      name: "J••• M••• D•••",
      email_address: "j•••@doe.com",
      phone_number: "•••33",
      birthdate: "•••",
      identification_numbers: "••• (2)",
      plan: "enterprise",
      seats: "40",
      undeclared: "•••sh"
    })
  })

  it("masks everything when the type is unknown, and shows empty values as empty", () => {
    expect(Object.values(showFields(undefined, fields)).some((v) => /Jane|jane@|3333|1994|enterprise/.test(v))).toBe(false)
    expect(showField(schemas[0], { type: "hash", value: { first: s(null), middle: s(null), last: s(null) } })).toBe("")
    expect(showField(schemas[5], s(null))).toBe("")
    expect(showField(schemas[5], undefined)).toBe("")
  })

  it("shows a field the catalog marks as not personal in full", () => {
    const open: ReadonlyArray<FieldSchema> = [{ key: "name", type: "hash", fields: [text("first"), text("last")] }]
    expect(showField(open[0], { type: "hash", value: { first: s("Jane"), last: s("Doe") } })).toBe("Jane Doe")
  })
})
