/**
 * The one idempotency rule, for the store, the HTTP layer and the clients (Persona's and
 * Stripe's convention): a key is 1–255 visible ASCII characters; the first result for a key is
 * kept for 24 hours per caller; the same request again replays it; the same key on another
 * request is refused (422); a repeat while the first is still running is a Conflict (409).
 * "The same request" is decided by a fingerprint of its canonical form, so JSON key order and
 * whitespace do not matter.
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js"
import { Conflict, InvalidRequest, Unprocessable } from "./errors.js"

/** The hex SHA-256 of `text`'s UTF-8 bytes (as node:crypto's), synchronous and platform-free. */
export const sha256Hex = (text: string): string => bytesToHex(sha256(utf8ToBytes(text)))

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000

const KEY = /^[\x21-\x7E]{1,255}$/

export const isIdempotencyKey = (key: string): boolean => KEY.test(key)

/** A malformed key is a bad request: nothing was looked up or run. */
export const checkIdempotencyKey = (key: string): InvalidRequest | undefined =>
  isIdempotencyKey(key)
    ? undefined
    : new InvalidRequest({
        message: "an idempotency key is 1–255 visible ASCII characters",
        issues: [{ path: ["idempotency-key"], message: "expected 1–255 visible ASCII characters" }]
      })

/** JSON with object keys sorted at every level: `{a,b}` and `{b,a}` are one text. */
export const canonicalJson = (value: unknown): string => JSON.stringify(canonical(value))

const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : value !== null && typeof value === "object" && !(value instanceof Date)
      ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
      : value

/**
 * What a stored record is compared with: the operation (or method and path) and its inputs,
 * hashed (a request may hold personal data; the record keeps only the hash). `hash` may be a
 * faster SHA-256 with the same hex output (node:crypto in the store).
 */
export const requestFingerprint = (operation: string, request: unknown, hash: (text: string) => string = sha256Hex): string =>
  hash(canonicalJson({ operation, request }))

/** A raw request body's fingerprint: canonical when it is JSON, its exact text otherwise. */
export const bodyFingerprint = (operation: string, body: string): string => {
  let parsed: unknown = body
  try {
    parsed = body.trim() === "" ? null : JSON.parse(body)
  } catch {
    parsed = { text: body }
  }
  return requestFingerprint(operation, parsed)
}

/** A stored record as the rule needs to see it. */
export interface IdempotencyRecord {
  readonly fingerprint: string
  /** `pending` while its first request runs (the HTTP layer claims a key before running). */
  readonly pending: boolean
  readonly createdAt: Date
  readonly expiresAt: Date
}

export type IdempotencyDecision =
  /** No live record: run the request (and record its result). */
  | { readonly _tag: "Run" }
  /** Answer the recorded result without running anything. */
  | { readonly _tag: "Replay" }
  | { readonly _tag: "Refuse"; readonly error: Unprocessable | Conflict }

/**
 * Replay, mismatch or in flight. A pending record older than `staleAfterMs` belongs to a
 * request whose process died: it stops blocking, and the request runs again (safe, since the
 * store records its key in the change's own transaction).
 */
export const decideIdempotency = (
  key: string,
  record: IdempotencyRecord | undefined,
  fingerprint: string,
  now: Date,
  staleAfterMs = Number.POSITIVE_INFINITY
): IdempotencyDecision => {
  if (record === undefined || record.expiresAt.getTime() <= now.getTime()) return { _tag: "Run" }
  if (record.fingerprint !== fingerprint) return { _tag: "Refuse", error: keyReused(key) }
  if (!record.pending) return { _tag: "Replay" }
  return now.getTime() - record.createdAt.getTime() < staleAfterMs ? { _tag: "Refuse", error: keyInFlight(key) } : { _tag: "Run" }
}

/**
 * The refusals a key's record keeps, as the operation's answer to that request: not found, a
 * conflict, a state that forbids it, unprocessable input. Not kept: refusals that never ran
 * (bad request, forbidden) and failures worth retrying (unavailable, timeout).
 */
export const isRecordedRefusal = (e: { readonly _tag: string }): boolean =>
  e._tag === "NotFound" || e._tag === "Conflict" || e._tag === "InvalidState" || e._tag === "Unprocessable"

export const keyReused = (key: string, operation?: string) =>
  new Unprocessable({
    message: `idempotency key ${JSON.stringify(key)} was already used for a different request${operation ? ` (${operation})` : ""}; use a new key for a new request`,
    issues: [{ path: ["idempotency-key"], message: "already used with different parameters" }]
  })

export const keyInFlight = (key: string) => new Conflict({ message: `a request with idempotency key ${JSON.stringify(key)} is still in flight; retry shortly` })
