/**
 * Confirmations for risky commands (disable, deactivate, redaction, actions marked `confirm`).
 * The Confirm button carries the whole request, signed with the signing secret (so a click
 * cannot be forged or edited) and stamped (so a stale one expires). Its nonce becomes the
 * Idempotency-Key of the change: a double click or a duplicate delivery runs it exactly once.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import type { SlackCommand } from "./command.js"

export const CONFIRM_TTL_SECONDS = 10 * 60

export interface Pending {
  readonly command: Extract<SlackCommand, { kind: "lifecycle" | "run" | "redact" }>
  /** Who asked: only they may confirm. */
  readonly teamId: string
  readonly userId: string
  readonly issuedAt: number
  readonly nonce: string
}

const mac = (secret: string, payload: string) => createHmac("sha256", `acct-confirm:${secret}`).update(payload).digest("base64url")

export const issue = (secret: string, pending: Omit<Pending, "nonce" | "issuedAt">, nowSeconds: number): string => {
  const payload = Buffer.from(JSON.stringify({ ...pending, issuedAt: nowSeconds, nonce: randomBytes(12).toString("base64url") })).toString("base64url")
  return `${payload}.${mac(secret, payload)}`
}

export type Opened = { readonly ok: true; readonly pending: Pending } | { readonly ok: false; readonly reason: string }

export const open = (secret: string, token: string, nowSeconds: number): Opened => {
  const [payload, signature] = token.split(".")
  if (!payload || !signature) return { ok: false, reason: "this confirmation is malformed" }
  const expected = Buffer.from(mac(secret, payload))
  const given = Buffer.from(signature)
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: "this confirmation is not genuine" }
  const pending = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Pending
  if (nowSeconds - pending.issuedAt > CONFIRM_TTL_SECONDS) return { ok: false, reason: "this confirmation has expired; run the command again" }
  return { ok: true, pending }
}
