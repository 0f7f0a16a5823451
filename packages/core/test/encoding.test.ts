/**
 * The store keeps a change's result (an Account, or an Account and its ActionRun) for its
 * idempotency key as `JSON.stringify(result)` rather than through `Schema.encode`, at a fraction
 * of the cost: that is only right while their encoded form is exactly their JSON (dates as ISO
 * strings, every other value plain). The event log writes an event's object (an Account, an
 * ActionRun or a Webhook) the same way. This checks it on arbitrary values of each schema.
 */
import { describe, expect, it } from "vitest"
import { Arbitrary, FastCheck, Schema } from "effect"
import { Account, ActionRun, encodeAnyAccount, encodeAnyRun, upstreamAccount, Webhook } from "../src/index.js"

const RunResult = Schema.Struct({ account: Account, run: ActionRun })

describe("the stored results' encoded form is their JSON", () => {
  for (const [name, schema] of [["Account", Account], ["ActionRun", ActionRun], ["RunResult", RunResult], ["Webhook", Webhook]] as const) {
    it(name, () => {
      const schemaAny = schema as unknown as Schema.Schema<unknown, unknown>
      const encode = Schema.encodeSync(schemaAny)
      FastCheck.assert(
        FastCheck.property(Arbitrary.make(schemaAny), (value) => {
          expect(JSON.stringify(value)).toBe(JSON.stringify(encode(value)))
        }),
        { numRuns: 200 }
      )
    })
  }
})

describe("encodeAnyAccount and encodeAnyRun (the CLI's --json)", () => {
  it("give acct's own records exactly as their schemas encode them", () => {
    for (const [schema, encodeAny] of [[Account, encodeAnyAccount], [ActionRun, encodeAnyRun]] as const) {
      const schemaAny = schema as unknown as Schema.Schema<unknown, unknown>
      const encode = Schema.encodeSync(schemaAny)
      const encodeAnyOwner = encodeAny as (value: unknown) => unknown
      FastCheck.assert(
        FastCheck.property(Arbitrary.make(schemaAny), (value) => {
          expect(JSON.stringify(encodeAnyOwner(value))).toBe(JSON.stringify(encode(value)))
        }),
        { numRuns: 200 }
      )
    }
  })

  it("give an upstream's with its ids, which acct's schemas refuse", () => {
    const at = new Date("2026-01-05T10:00:00.000Z")
    const account = upstreamAccount({
      id: "ACC-1234-5678" as Account["id"],
      referenceId: "nw-1",
      accountTypeId: "softwareone:Vendor" as Account["accountTypeId"],
      accountTypeName: "Vendor",
      status: "Active",
      fields: { name: { type: "string", value: "Northwind Traders" } },
      tags: [],
      version: 0,
      createdAt: at,
      updatedAt: at,
      redactedAt: null,
      consolidatedInto: null
    })
    expect(() => Schema.encodeSync(Account)(account)).toThrow('got "ACC-1234-5678"')
    expect(encodeAnyAccount(account)).toMatchObject({ id: "ACC-1234-5678", accountTypeId: "softwareone:Vendor", createdAt: "2026-01-05T10:00:00.000Z" })
  })
})
