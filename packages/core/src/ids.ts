/**
 * Identifiers: acct's are a type prefix plus 24–28 letters and digits, in Persona's style
 * (`act_…`, `acttp_…`, `accac_…`, `wfr_…`); an upstream's are its own (`IdOwner`). New ids come
 * from the platform CSPRNG (Web Crypto, so core stays free of Node imports).
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

/**
 * Whose ids a backend's records carry. acct's own (the embedded store) follow acct's pattern, and
 * an id a client names that does not is refused at once. An upstream's (Persona, SoftwareOne:
 * gateway mode, a provider profile) are the upstream's to define — Persona's spec itself shows
 * `act_ABC123`, SoftwareOne's are `ACC-1234-5678` — so acct keeps them as they are and lets the
 * upstream judge the ones it is sent.
 */
export type IdOwner = "acct" | "upstream"

/**
 * An id an upstream made: only what acct could not name back (in a URL path, a header, a log
 * line) is refused.
 */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const UPSTREAM_ID = /^[^\s\u0000-\u001F\u007F]{1,255}$/

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
  type Id = Schema.Schema.Type<typeof schema>
  const is = (s: unknown): s is Id => typeof s === "string" && pattern.test(s)
  const upstream = Schema.String.pipe(
    Schema.filter((s) => UPSTREAM_ID.test(s), {
      message: (issue) => `expected ${what} id: 1–255 characters, no spaces or control characters, got ${JSON.stringify(issue.actual)}`,
      description: `${what} id: acct's own are "${prefix}_" followed by 24–28 letters or digits; an upstream's (gateway mode) are kept as it made them`,
      jsonSchema: { pattern: UPSTREAM_ID.source }
    }),
    Schema.brand(brand)
  )
  const isUpstream = (s: unknown): s is Id => typeof s === "string" && UPSTREAM_ID.test(s)
  return Object.assign(schema, {
    prefix,
    is,
    make: () => `${prefix}_${randomAlphanumeric(ID_LENGTH)}` as Id,
    /** This kind of id as any upstream may make it (see IdOwner); acct's own are among them. */
    upstream: Object.assign(upstream, { is: isUpstream }),
    /**
     * Whether `s` names an id of this kind as `owner` makes them: acct's pattern, or this kind's
     * prefix followed by the upstream's own choice (how an id is told from a name or a
     * reference id).
     */
    isOf: (owner: IdOwner) => (owner === "acct" ? is : (s: unknown): s is Id => isUpstream(s) && s.length > prefix.length + 1 && s.startsWith(`${prefix}_`))
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
