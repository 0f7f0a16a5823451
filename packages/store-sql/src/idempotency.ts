/**
 * Idempotency keys: the first result of an operation is stored for 24 hours per principal and
 * key; the same request again replays it, the same key on another request is refused.
 */
import { Unprocessable } from "@acct/core"
import { createHash } from "node:crypto"

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000

/** Key order must not change the hash: `{a,b}` and `{b,a}` are the same request. */
const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : value !== null && typeof value === "object" && !(value instanceof Date)
      ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
      : value

export const requestHash = (operation: string, request: unknown): string =>
  createHash("sha256").update(JSON.stringify(canonical({ operation, request }))).digest("hex")

export const checkIdempotencyKey = (key: string): Unprocessable | undefined =>
  key.length >= 1 && key.length <= 255 && /^[\x21-\x7E]+$/.test(key)
    ? undefined
    : new Unprocessable({
        message: "an idempotency key is 1–255 visible ASCII characters",
        issues: [{ path: ["idempotency-key"], message: "expected 1–255 visible ASCII characters" }]
      })

export const keyReused = (key: string, operation: string) =>
  new Unprocessable({
    message: `idempotency key ${JSON.stringify(key)} was already used for a different request (${operation}); use a new key for a new request`,
    issues: [{ path: ["idempotency-key"], message: "already used with different parameters" }]
  })
