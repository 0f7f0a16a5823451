/**
 * The store keeps a change's result (an Account, or an Account and its ActionRun) for its
 * idempotency key as `JSON.stringify(result)` rather than through `Schema.encode`, at a fraction
 * of the cost: that is only right while their encoded form is exactly their JSON (dates as ISO
 * strings, every other value plain). The event log writes an event's object (an Account, an
 * ActionRun or a Webhook) the same way. This checks it on arbitrary values of each schema.
 */
import { describe, expect, it } from "vitest"
import { Arbitrary, FastCheck, Schema } from "effect"
import { Account, AccountAction, AccountType, ActionRun, encodeAnyAccount, encodeAnyAction, encodeAnyRun, encodeAnyType, upstreamAccount, Webhook } from "../src/index.js"

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

describe("encodeAnyAccount, encodeAnyRun, encodeAnyType and encodeAnyAction (the CLI's --json)", () => {
  // Types and actions nest field schemas (recursive, filtered): fewer of them, for time.
  const cases = [
    ["Account", Account, encodeAnyAccount, 200],
    ["ActionRun", ActionRun, encodeAnyRun, 200],
    ["AccountType", AccountType, encodeAnyType, 20],
    ["AccountAction", AccountAction, encodeAnyAction, 20]
  ] as const
  it.each(cases)("give acct's own %s exactly as its schema encodes it", (_, schema, encodeAny, numRuns) => {
    const schemaAny = schema as unknown as Schema.Schema<unknown, unknown>
    const encode = Schema.encodeSync(schemaAny)
    const encodeAnyOwner = encodeAny as (value: unknown) => unknown
    FastCheck.assert(
      FastCheck.property(Arbitrary.make(schemaAny), (value) => {
        expect(JSON.stringify(encodeAnyOwner(value))).toBe(JSON.stringify(encode(value)))
      }),
      { numRuns }
    )
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

  it("give an upstream's types and actions with its ids and status names, which acct's schemas refuse", () => {
    const at = new Date(0)
    const lifecycle = { active: "Active", enabled: "Enabled", disabled: "Disabled" }
    const type = AccountType.make({ id: "softwareone:Client" as AccountType["id"], name: "Client", fields: [], statuses: ["Active", "Enabled", "Disabled"], defaultStatus: "Enabled", lifecycle, createdAt: at, updatedAt: at }, true)
    expect(() => Schema.encodeSync(AccountType)(type)).toThrow('got "softwareone:Client"')
    expect(encodeAnyType(type)).toMatchObject({ id: "softwareone:Client", statuses: ["Active", "Enabled", "Disabled"], lifecycle, createdAt: "1970-01-01T00:00:00.000Z" })
    // Persona's: its id, and no definition (type, steps) known to acct.
    const action = AccountAction.make({ id: "accac_ABC123" as AccountAction["id"], name: "Set status", accountTypeId: "" as never, parameters: [], steps: [] as never, createdAt: at, updatedAt: at }, true)
    expect(() => Schema.encodeSync(AccountAction)(action)).toThrow('got "accac_ABC123"')
    expect(encodeAnyAction(action)).toMatchObject({ id: "accac_ABC123", accountTypeId: "", steps: [] })
  })
})
