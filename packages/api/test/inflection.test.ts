import { describe, expect, it } from "vitest"
import { inflectKey, inflectKeys, parseKeyInflection } from "../src/index.js"

const kebab = {
  data: {
    type: "account",
    attributes: {
      "account-type-id": "acttp_1",
      "address-street-1": "1 Main St",
      fields: { email_address: { type: "email-address", value: "a@b.c" }, "kebab-key": { type: "file", value: { "byte-size": 1 } } },
      tags: ["a-b"]
    },
    relationships: { "account-type": { data: { type: "account-type", id: "acttp_1" } } }
  },
  meta: { "workflow-run-id": "wfr_1" },
  included: [{ attributes: { "field-schemas": [{ config: { "item-schemas": [] } }] } }]
}

describe("inflectKeys", () => {
  it("camelCases and snake_cases every key but those inside fields", () => {
    const camel = inflectKeys(kebab, "camel") as typeof kebab & Record<string, never>
    expect(camel).toEqual({
      data: {
        type: "account",
        attributes: {
          accountTypeId: "acttp_1",
          addressStreet1: "1 Main St",
          fields: kebab.data.attributes.fields,
          tags: ["a-b"]
        },
        relationships: { accountType: { data: { type: "account-type", id: "acttp_1" } } }
      },
      meta: { workflowRunId: "wfr_1" },
      included: [{ attributes: { fieldSchemas: [{ config: { itemSchemas: [] } }] } }]
    })
    const snake = inflectKeys(kebab, "snake") as Record<string, { attributes: Record<string, unknown> }>
    expect(Object.keys(snake.data!.attributes)).toEqual(["account_type_id", "address_street_1", "fields", "tags"])
    expect(snake.data!.attributes.fields).toBe(kebab.data.attributes.fields)
  })

  it("turns any inflection back into kebab-case, and kebab-case into itself", () => {
    expect(inflectKeys(inflectKeys(kebab, "camel"), "kebab")).toEqual(kebab)
    expect(inflectKeys(inflectKeys(kebab, "snake"), "kebab")).toEqual(kebab)
    expect(inflectKeys(kebab, "kebab")).toBe(kebab)
  })

  it("never touches the keys of an action's parameters", () => {
    expect(inflectKeys({ data: { accountActionId: "accac_1", parameters: { phoneNumber: "1", email_address: "x" } } }, "kebab")).toEqual({
      data: { "account-action-id": "accac_1", parameters: { phoneNumber: "1", email_address: "x" } }
    })
  })

  it("leaves keys that are not words alone", () => {
    expect(inflectKey("$meta", "snake")).toBe("$meta")
    expect(inflectKey("page[size]", "camel")).toBe("page[size]")
  })
})

describe("parseKeyInflection", () => {
  it.each([
    [undefined, "kebab"],
    ["", "kebab"],
    ["camel", "camel"],
    [" Snake ", "snake"],
    ["pascal", undefined]
  ])("%s → %s", (header, expected) => expect(parseKeyInflection(header)).toBe(expected))
})
