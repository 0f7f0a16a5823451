/**
 * Slack's request signing (v0): HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing
 * secret, compared in constant time, inside a two-sided window: a request stamped more than five
 * minutes in the past or in the future is refused (Bolt's own check only refuses old ones).
 * Verified before Bolt sees the request.
 */
import { createHmac, timingSafeEqual } from "node:crypto"

export const WINDOW_SECONDS = 5 * 60

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string }

export const sign = (secret: string, timestamp: string, rawBody: string) => `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${rawBody}`).digest("hex")}`

export const verifySignature = (
  secret: string,
  headers: { readonly signature: string | undefined; readonly timestamp: string | undefined },
  rawBody: string,
  nowSeconds: number
): Verdict => {
  const { signature, timestamp } = headers
  if (signature === undefined || timestamp === undefined) return { ok: false, reason: "missing X-Slack-Signature or X-Slack-Request-Timestamp" }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "X-Slack-Request-Timestamp is not a Unix time" }
  const skew = nowSeconds - Number(timestamp)
  if (skew > WINDOW_SECONDS) return { ok: false, reason: "stale request (timestamp more than 5 minutes old)" }
  if (skew < -WINDOW_SECONDS) return { ok: false, reason: "request from the future (timestamp more than 5 minutes ahead)" }
  const expected = Buffer.from(sign(secret, timestamp, rawBody))
  const presented = Buffer.from(signature)
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return { ok: false, reason: "signature mismatch" }
  return { ok: true }
}
