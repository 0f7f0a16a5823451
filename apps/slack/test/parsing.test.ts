import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { findQuery, parseCommand, words } from "../src/command.js"
import { parsePolicy, permissionsOf } from "../src/policy.js"
import { sign, verifySignature } from "../src/signature.js"

describe("Slack's documented signing example", () => {
  // https://api.slack.com/authentication/verifying-requests-from-slack (the worked example).
  const secret = "8f742231b10e8888abcd99yyyzzz85a5"
  const timestamp = "1531420618"
  const body =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
  const signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

  it("computes Slack's signature and accepts it at its time", () => {
    expect(sign(secret, timestamp, body)).toBe(signature)
    expect(verifySignature(secret, { signature, timestamp }, body, 1531420618)).toEqual({ ok: true })
  })

  it("refuses it five minutes and a second later, or earlier", () => {
    expect(verifySignature(secret, { signature, timestamp }, body, 1531420618 + 301)).toMatchObject({ ok: false })
    expect(verifySignature(secret, { signature, timestamp }, body, 1531420618 - 301)).toMatchObject({ ok: false })
    expect(verifySignature(secret, { signature: signature.replace("a2", "b2"), timestamp }, body, 1531420618)).toMatchObject({ ok: false, reason: "signature mismatch" })
    expect(verifySignature(secret, { signature, timestamp: "soon" }, body, 1531420618)).toMatchObject({ ok: false })
  })
})

describe("the /acct command language", () => {
  it("parses tolerantly", () => {
    expect(words(' run  “Set status”   abc-123  status=activated ')).toEqual(["run", "Set status", "abc-123", "status=activated"])
    expect(parseCommand("DISABLE abc-123 customer asked by ticket #4521")).toEqual({ kind: "lifecycle", operation: "disable", account: "abc-123", reason: "customer asked by ticket #4521" })
    expect(parseCommand("run 'Set status' abc-123 status=activated")).toEqual({ kind: "run", action: "Set status", account: "abc-123", parameters: ["status=activated"] })
    expect(parseCommand("tag abc-123 +vip -trial")).toEqual({ kind: "tag", account: "abc-123", add: ["vip"], remove: ["trial"] })
    expect(parseCommand("find status:disabled")).toEqual({ kind: "find", text: "status:disabled" })
    expect(parseCommand(' find  fields.name.last = "de la Cruz" ')).toEqual({ kind: "find", text: 'fields.name.last = "de la Cruz"' })
    expect(parseCommand("")).toEqual({ kind: "help" })
  })

  it("compiles find to a search: shorthands, a reference id, or the search syntax", () => {
    const query = (text: string) => Either.getOrThrow(findQuery(text)).query
    expect(query("status:disabled")).toEqual({ attribute: "status", operator: "eq", value: "disabled" })
    expect(query("TAG:vip")).toEqual({ attribute: "tags", operator: "eq", value: "vip" })
    expect(query("abc-123")).toEqual({ attribute: "identifiers.reference_id", operator: "eq", value: "abc-123" })
    expect(query("status = disabled and fields.name.last = “de la Cruz”")).toEqual({ and: [
      { attribute: "status", operator: "eq", value: "disabled" },
      { attribute: "fields.name.last", operator: "eq", value: "de la Cruz" }
    ] })
    expect(Either.isLeft(findQuery("status = "))).toBe(true)
  })

  it("answers mistakes with help that says what was wrong", () => {
    expect(parseCommand("enabel abc-123")).toEqual({ kind: "help", problem: "unknown command `enabel` — did you mean `enable`?" })
    expect(parseCommand("frobnicate")).toEqual({ kind: "help", problem: "unknown command `frobnicate`" })
    expect(parseCommand("show")).toMatchObject({ kind: "help", problem: expect.stringContaining("needs an account") })
    expect(parseCommand("tag abc-123 vip")).toMatchObject({ kind: "help", problem: expect.stringContaining("+ and to remove with -") })
  })
})

describe("the Slack policy", () => {
  it("grants reads to everyone and changes only by grant", () => {
    const policy = parsePolicy("grants:\n  - users: [U1111]\n    scopes: [account.action]\n    actions: [Set status]\n", "p.yaml")
    if (policy._tag === "Left") throw policy.left
    const anyone = permissionsOf(policy.right, { teamId: "T1", userId: "U9999", groups: [] })
    expect(anyone.principal.scopes).toEqual(["account.read"])
    const granted = permissionsOf(policy.right, { teamId: "T1", userId: "U1111", groups: [] })
    expect(granted.principal.can("account.action")).toBe(true)
    expect([...granted.actions!]).toEqual(["Set status"])
    expect(granted.principal.actor).toEqual({ kind: "slack", id: "T1/U1111", name: "slack:T1/U1111" })
  })

  it("says which entry of a policy file is wrong", () => {
    const bad = parsePolicy("grants:\n  - users: [bob]\n    scopes: [account.everything]\n", "p.yaml")
    expect(bad._tag).toBe("Left")
    if (bad._tag === "Left") {
      expect(bad.left.message).toContain("expected a Slack user id")
      expect(bad.left.message).toContain("account.everything")
    }
  })
})
