import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { checkAttributeMapping, checkValue, type FieldSchema, flatAttributesToFields, mergeAttributeFields } from "../src/index.js"

const text = (key: string): FieldSchema => ({ key, type: "string" })
const fields: ReadonlyArray<FieldSchema> = [
  { key: "name", type: "hash", fields: [text("first"), text("middle"), text("last")] },
  { key: "email_address", type: "email-address" },
  { key: "selfie_photo", type: "file" },
  { key: "ids", type: "array", items: { key: "id", type: "hash", fields: [text("identification_class"), text("identification_number"), text("issuing_country")] } }
]
const mapping = { "name-first": "name.first", "name-last": "name.last", "email-address": "email_address", "selfie-photo": "selfie_photo" } as const

describe("flat attributes", () => {
  it("turn into a fields patch under the type's mapping, from kebab-case or snake_case keys", () => {
    expect(flatAttributesToFields(mapping, { "name-first": "Jane", name_last: "Doe", "email-address": "j@d.c", "reference-id": "x" })).toEqual(
      Either.right({ name: { first: "Jane", last: "Doe" }, email_address: "j@d.c" })
    )
  })

  it("keep a selfie's name and size, not its bytes", () => {
    expect(flatAttributesToFields(mapping, { "selfie-photo": { data: { data: "aGVsbG8=", filename: "me.png" } } })).toEqual(
      Either.right({ selfie_photo: { filename: "me.png", "byte-size": 5 } })
    )
  })

  it("name an attribute the type does not map", () => {
    const result = flatAttributesToFields(mapping, { "phone-number": "1" }, ["data", "attributes"])
    expect(Either.getLeft(result).pipe((l) => l._tag === "Some" && l.value[0])).toEqual({
      path: ["data", "attributes", "phone-number"],
      message: "this account type does not map phone-number to a field (it maps: name-first, name-last, email-address, selfie-photo)"
    })
  })

  it("merge with fields, refusing a value set both ways", () => {
    expect(mergeAttributeFields({ name: { type: "hash", value: { middle: "M" } } }, { name: { first: "J" } })).toEqual(Either.right({ name: { middle: "M", first: "J" } }))
    expect(Either.isLeft(mergeAttributeFields({ name: { first: "A" } }, { name: { first: "J" } }))).toBe(true)
  })

  it("are mapped only onto fields that exist and hold one value", () => {
    expect(checkAttributeMapping(fields, mapping)).toEqual([])
    expect(checkAttributeMapping(fields, { "name-first": "name.nickname", "name-last": "name", "email-address": "name.first", "country-code": "email_address.x" }).map((i) => i.message)).toEqual([
      "no field name.nickname (fields: first, middle, last)",
      "name is a hash field; an attribute sets one value",
      "email_address is not a hash field"
    ])
  })
})

describe("hash items of an array", () => {
  it("leave out the keys not given instead of answering null where Persona types a string", () => {
    const result = checkValue(fields[3]!, [{ identification_class: "visa", identification_number: "1" }], ["ids"])
    expect(result).toEqual(
      Either.right({ type: "array", value: [{ type: "hash", value: { identification_class: { type: "string", value: "visa" }, identification_number: { type: "string", value: "1" } } }] })
    )
  })
})
