import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { applyLifecycle, lifecycleStateOf, type LifecycleOperation, type LifecycleState, transition } from "../src/index.js"
import { account, userType } from "./fixtures.js"

const statusOf: Record<LifecycleState, string> = { Active: "activated", Enabled: "deactivated", Disabled: "disabled" }

// The whole SoftwareOne matrix: 4 operations × 3 states × with/without external id.
// `undefined` means refused.
const expected: Record<LifecycleOperation, Record<LifecycleState, [withExternalId: LifecycleState | undefined, without: LifecycleState | undefined]>> = {
  enable: { Disabled: ["Active", "Enabled"], Active: [undefined, undefined], Enabled: [undefined, undefined] },
  disable: { Disabled: [undefined, undefined], Active: ["Disabled", "Disabled"], Enabled: ["Disabled", "Disabled"] },
  activate: { Disabled: [undefined, undefined], Active: [undefined, undefined], Enabled: ["Active", undefined] },
  deactivate: { Disabled: [undefined, undefined], Active: ["Enabled", "Enabled"], Enabled: [undefined, undefined] }
}

describe("lifecycle", () => {
  for (const [operation, byState] of Object.entries(expected) as Array<[LifecycleOperation, (typeof expected)[LifecycleOperation]]>) {
    for (const [state, [withId, withoutId]] of Object.entries(byState) as Array<[LifecycleState, [LifecycleState | undefined, LifecycleState | undefined]]>) {
      for (const [hasId, outcome] of [[true, withId], [false, withoutId]] as const) {
        it(`${operation} from ${state} ${hasId ? "with" : "without"} external id → ${outcome ?? "refused"}`, () => {
          const result = transition(userType, account(statusOf[state], hasId ? "ext-1" : null), operation)
          if (outcome === undefined) {
            expect(Either.isLeft(result)).toBe(true)
            const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined))!
            expect(error._tag).toBe("InvalidState")
            expect(error.message).toContain(`cannot ${operation}`)
            expect(error.currentStatus).toBe(statusOf[state])
          } else {
            expect(result).toEqual(Either.right(outcome))
          }
        })
      }
    }
  }

  it("explains why activate needs an external id", () => {
    const result = transition(userType, account("deactivated", null), "activate")
    expect(Either.isLeft(result) && result.left.message).toMatch(/no external \(reference\) id/)
  })

  it("classifies a status outside the mapping as Disabled, and treats it so", () => {
    expect(lifecycleStateOf(userType, "pending")).toBe("Disabled")
    expect(transition(userType, account("pending", "ext-1"), "enable")).toEqual(Either.right("Active"))
    expect(transition(userType, account("pending", null), "enable")).toEqual(Either.right("Enabled"))
    const refused = transition(userType, account("pending"), "disable")
    expect(Either.isLeft(refused) && refused.left.message).toContain('it is Disabled (status "pending" counts as Disabled); disable applies to Active or Enabled accounts')
  })

  it("applyLifecycle sets the mapped status and bumps the version", () => {
    const before = account("disabled", "ext-1")
    const now = new Date("2026-02-02T00:00:00.000Z")
    const after = Either.getOrThrow(applyLifecycle(userType, before, "enable", now))
    expect(after.status).toBe("activated")
    expect(after.version).toBe(before.version + 1)
    expect(after.updatedAt).toEqual(now)
  })
})
