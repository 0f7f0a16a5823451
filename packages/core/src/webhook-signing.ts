/**
 * The two signatures every webhook delivery carries, as pure functions (no node:crypto: core
 * stays platform-free; HMAC-SHA256 over sha256.ts, RFC 2104):
 *
 * - Persona's `Persona-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
 *   one pair per secret still accepted (space-separated while a rotated secret is in its grace);
 * - Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
 *   `webhook-signature: v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`, keyed with
 *   the secret's UTF-8 bytes — what `new Webhook(secret, { format: "raw" })` verifies.
 */
import { sha256Bytes, toHex } from "./sha256.js"

const encoder = new TextEncoder()
const BLOCK = 64

export const hmacSha256 = (key: Uint8Array, message: Uint8Array): Uint8Array => {
  const block = new Uint8Array(BLOCK)
  block.set(key.length > BLOCK ? sha256Bytes(key) : key)
  const inner = new Uint8Array(BLOCK + message.length)
  const outer = new Uint8Array(BLOCK + 32)
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = block[i]! ^ 0x36
    outer[i] = block[i]! ^ 0x5c
  }
  inner.set(message, BLOCK)
  outer.set(sha256Bytes(inner), BLOCK)
  return sha256Bytes(outer)
}

const hmac = (secret: string, text: string) => hmacSha256(encoder.encode(secret), encoder.encode(text))

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))

/** `Persona-Signature` for `body` sent at `timestamp` (unix seconds), signed by each secret. */
export const personaSignature = (secrets: ReadonlyArray<string>, timestamp: number, body: string): string =>
  secrets.map((secret) => `t=${timestamp},v1=${toHex(hmac(secret, `${timestamp}.${body}`))}`).join(" ")

/** The Standard Webhooks headers for message `id` (the event id, stable across retries). */
export const standardWebhookHeaders = (secrets: ReadonlyArray<string>, id: string, timestamp: number, body: string) => ({
  "webhook-id": id,
  "webhook-timestamp": String(timestamp),
  "webhook-signature": secrets.map((secret) => `v1,${toBase64(hmac(secret, `${id}.${timestamp}.${body}`))}`).join(" ")
})
