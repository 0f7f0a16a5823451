import { Either, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { AccountActionId, AccountId, ActionRunId, parseAccountRef } from "../src/index.js"

describe("ids", () => {
  it("generates prefixed ids of 24 alphanumerics, all distinct", () => {
    const ids = new Set(Array.from({ length: 2000 }, () => AccountId.make()))
    expect(ids.size).toBe(2000)
    for (const id of ids) expect(id).toMatch(/^act_[A-Za-z0-9]{24}$/)
    expect(ActionRunId.make()).toMatch(/^wfr_/)
  })

  it("decodes valid ids and explains invalid ones", () => {
    expect(Schema.decodeUnknownSync(AccountActionId)("accac_h4Ln3agRBwdpZD55Lef8fDwjuvjG")).toBe("accac_h4Ln3agRBwdpZD55Lef8fDwjuvjG")
    const bad = Schema.decodeUnknownEither(AccountId)("act_short")
    expect(Either.isLeft(bad) && bad.left.message).toContain('expected an account id: "act_" followed by 24–28 letters or digits, got "act_short"')
    expect(Either.isLeft(Schema.decodeUnknownEither(AccountId)("acttp_hpNqyAbEG4HeVjZoBRNCMKkA"))).toBe(true)
  })

  it("reads an <account> argument as an id or a reference id", () => {
    expect(parseAccountRef("act_hpNqyAbEG4HeVjZoBRNCMKkA")).toEqual(Either.right({ id: "act_hpNqyAbEG4HeVjZoBRNCMKkA" }))
    expect(parseAccountRef("abc-123")).toEqual(Either.right({ referenceId: "abc-123" }))
    expect(Either.isLeft(parseAccountRef("act_123"))).toBe(true)
    expect(Either.isLeft(parseAccountRef("has space"))).toBe(true)
  })
})
