import { createHash } from "node:crypto"
import { describe, expect, it } from "vitest"
import { bodyFingerprint, checkIdempotencyKey, decideIdempotency, requestFingerprint, sha256Hex } from "../src/index.js"

describe("the idempotency rule", () => {
  it("hashes exactly as node:crypto's SHA-256 does", () => {
    for (const text of ["", "abc", "a".repeat(55), "a".repeat(56), "a".repeat(64), "é✓😀".repeat(100), "x".repeat(100_000)]) {
      expect(sha256Hex(text)).toBe(createHash("sha256").update(text, "utf8").digest("hex"))
    }
  })

  it("fingerprints requests canonically: key order and whitespace do not matter, values do", () => {
    expect(requestFingerprint("update", { ref: { id: "a" }, fields: { b: 1, a: [2, { y: 1, x: 2 }] } })).toBe(
      requestFingerprint("update", { fields: { a: [2, { x: 2, y: 1 }], b: 1 }, ref: { id: "a" } })
    )
    expect(requestFingerprint("update", { a: 1 })).not.toBe(requestFingerprint("update", { a: 2 }))
    expect(requestFingerprint("update", { a: 1 })).not.toBe(requestFingerprint("create", { a: 1 }))
    expect(bodyFingerprint("POST /x", '{"a":1,"b":{"c":2,"d":3}}')).toBe(bodyFingerprint("POST /x", '{ "b": {"d":3,"c":2}, "a": 1 }'))
    expect(bodyFingerprint("POST /x", "not json")).not.toBe(bodyFingerprint("POST /x", "not json!"))
  })

  it("one key syntax: 1–255 visible ASCII characters, else a bad request", () => {
    expect(checkIdempotencyKey("k-1")).toBeUndefined()
    for (const bad of ["", "with space", "é", "x".repeat(256)]) expect(checkIdempotencyKey(bad)?._tag).toBe("InvalidRequest")
  })

  it("decides replay, mismatch, in flight, stale and expired", () => {
    const now = new Date("2026-01-02T00:00:00Z")
    const record = (over: Partial<Parameters<typeof decideIdempotency>[1] & object> = {}) => ({
      fingerprint: "f",
      pending: false,
      createdAt: new Date("2026-01-01T23:59:00Z"),
      expiresAt: new Date("2026-01-02T12:00:00Z"),
      ...over
    })
    expect(decideIdempotency("k", undefined, "f", now)._tag).toBe("Run")
    expect(decideIdempotency("k", record(), "f", now)._tag).toBe("Replay")
    expect(decideIdempotency("k", record(), "g", now)).toMatchObject({ _tag: "Refuse", error: { _tag: "Unprocessable" } })
    expect(decideIdempotency("k", record({ pending: true }), "f", now, 120_000)).toMatchObject({ _tag: "Refuse", error: { _tag: "Conflict" } })
    expect(decideIdempotency("k", record({ pending: true }), "f", now, 30_000)._tag).toBe("Run")
    expect(decideIdempotency("k", record({ expiresAt: now }), "g", now)._tag).toBe("Run")
  })
})
