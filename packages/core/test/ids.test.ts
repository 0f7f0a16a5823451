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

  it("takes an upstream's ids as it made them, and tells its ids from reference ids by their prefix", () => {
    expect(Schema.decodeUnknownSync(AccountId.upstream)("act_ABC123")).toBe("act_ABC123")
    expect(Schema.decodeUnknownSync(AccountId.upstream)("ACC-1234-5678")).toBe("ACC-1234-5678")
    const bad = Schema.decodeUnknownEither(AccountId.upstream)("act_has space")
    expect(Either.isLeft(bad) && bad.left.message).toContain('expected an account id: 1–255 characters, no spaces or control characters, got "act_has space"')
    expect(parseAccountRef("act_hpNq-yAbEG4HeVjZoBRNCMKkA", "upstream")).toEqual(Either.right({ id: "act_hpNq-yAbEG4HeVjZoBRNCMKkA" }))
    expect(parseAccountRef("abc-123", "upstream")).toEqual(Either.right({ referenceId: "abc-123" }))
    expect(Either.isLeft(parseAccountRef("act_", "upstream"))).toBe(true)
    // acct's own store keeps acct's pattern.
    expect(Either.isLeft(parseAccountRef("act_hpNq-yAbEG4HeVjZoBRNCMKkA"))).toBe(true)
  })
})
