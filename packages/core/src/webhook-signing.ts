/**
 * The two signatures every webhook delivery carries, as pure functions (HMAC-SHA256 from
 * @noble/hashes: synchronous, and no node:crypto, so core stays platform-free):
 *
 * - Persona's `Persona-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
 *   one pair per secret still accepted (space-separated while a rotated secret is in its grace);
 * - Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
 *   `webhook-signature: v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`, keyed with
 *   the secret's UTF-8 bytes — what `new Webhook(secret, { format: "raw" })` verifies.
 */
import { hmac as hmacOf } from "@noble/hashes/hmac.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js"

const hmac = (secret: string, text: string) => hmacOf(sha256, utf8ToBytes(secret), utf8ToBytes(text))

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))

/** `Persona-Signature` for `body` sent at `timestamp` (unix seconds), signed by each secret. */
export const personaSignature = (secrets: ReadonlyArray<string>, timestamp: number, body: string): string =>
  secrets.map((secret) => `t=${timestamp},v1=${bytesToHex(hmac(secret, `${timestamp}.${body}`))}`).join(" ")

/** The Standard Webhooks headers for message `id` (the event id, stable across retries). */
export const standardWebhookHeaders = (secrets: ReadonlyArray<string>, id: string, timestamp: number, body: string) => ({
  "webhook-id": id,
  "webhook-timestamp": String(timestamp),
  "webhook-signature": secrets.map((secret) => `v1,${toBase64(hmac(secret, `${id}.${timestamp}.${body}`))}`).join(" ")
})
