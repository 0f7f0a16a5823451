/**
 * Identifiers: a type prefix plus 24–28 letters and digits, as Persona uses (`act_…`, `acttp_…`,
 * `accac_…`, `wfr_…`). New ids come from the platform CSPRNG (Web Crypto, so core stays free of
 * Node imports).
 */
import { Schema } from "effect"

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
const ID_LENGTH = 24

/**
 * CSPRNG bytes drawn a pool at a time: one getRandomValues call per 4 KiB instead of one per id
 * (it showed up in request profiles), the way Node's own randomUUID caches its entropy.
 */
const pool = new Uint8Array(4096)
let poolAt = pool.length
const randomByte = () => {
  if (poolAt === pool.length) {
    globalThis.crypto.getRandomValues(pool)
    poolAt = 0
  }
  return pool[poolAt++]!
}

/** Uniform base62 characters: bytes ≥ 248 are rejected so no character is favoured. */
export const randomAlphanumeric = (length: number): string => {
  let out = ""
  while (out.length < length) {
    const byte = randomByte()
    if (byte < 248) out += ALPHABET[byte % 62]
  }
  return out
}

export const idSchema = <const Prefix extends string, const Brand extends string>(prefix: Prefix, brand: Brand, what: string) => {
  const pattern = new RegExp(`^${prefix}_[A-Za-z0-9]{24,28}$`)
  const schema = Schema.String.pipe(
    Schema.filter((s) => pattern.test(s), {
      message: (issue) =>
        `expected ${what} id: "${prefix}_" followed by 24–28 letters or digits, got ${JSON.stringify(issue.actual)}`,
      jsonSchema: { pattern: pattern.source }
    }),
    Schema.brand(brand)
  )
  return Object.assign(schema, {
    prefix,
    is: (s: unknown): s is Schema.Schema.Type<typeof schema> => typeof s === "string" && pattern.test(s),
    make: () => `${prefix}_${randomAlphanumeric(ID_LENGTH)}` as Schema.Schema.Type<typeof schema>
  })
}

export const AccountId = idSchema("act", "AccountId", "an account")
export type AccountId = typeof AccountId.Type
export const AccountTypeId = idSchema("acttp", "AccountTypeId", "an account type")
export type AccountTypeId = typeof AccountTypeId.Type
export const AccountActionId = idSchema("accac", "AccountActionId", "an account action")
export type AccountActionId = typeof AccountActionId.Type
export const ActionRunId = idSchema("wfr", "ActionRunId", "a workflow run")
export type ActionRunId = typeof ActionRunId.Type
export const WebhookId = idSchema("wbh", "WebhookId", "a webhook")
export type WebhookId = typeof WebhookId.Type
export const ImporterId = idSchema("mprt", "ImporterId", "an importer")
export type ImporterId = typeof ImporterId.Type
