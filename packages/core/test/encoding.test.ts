/**
 * The store keeps a change's result (an Account, or an Account and its ActionRun) for its
 * idempotency key as `JSON.stringify(result)` rather than through `Schema.encode`, at a fraction
 * of the cost: that is only right while their encoded form is exactly their JSON (dates as ISO
 * strings, every other value plain). The event log writes an event's object (an Account, an
 * ActionRun or a Webhook) the same way. This checks it on arbitrary values of each schema.
 */
import { describe, expect, it } from "vitest"
import { Arbitrary, FastCheck, Schema } from "effect"
import { Account, ActionRun, Webhook } from "../src/index.js"

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
