/**
 * API keys: the secret is shown once at creation; only its SHA-256 is stored. Verifying a
 * presented key answers the Principal it stands for, or Unauthorized.
 */
import { Context, type Effect, Schema } from "effect"
import type { InvalidRequest, NotFound, Unauthorized, Unavailable } from "./errors.js"
import type { Principal, Scope } from "./principal.js"

/**
 * The shortest secret accepted as a key (ACCT_BOOTSTRAP_KEY included): shorter ones can be
 * guessed, and a key's shown prefix would be most of it. Keys acct makes are 45 characters.
 */
export const MIN_SECRET_LENGTH = 32

/**
 * What of a key may be shown (stored, listed, logged): `acct_` and 7 more characters for keys
 * acct made, the first 8 characters of any other.
 */
export const keyPrefix = (secret: string) => secret.slice(0, secret.startsWith("acct_") ? 12 : 8)

export class ApiKeyInfo extends Schema.Class<ApiKeyInfo>("ApiKeyInfo")({
  id: Schema.String,
  name: Schema.String,
  /** The first characters of the secret, to recognise a key without storing it. */
  prefix: Schema.String,
  scopes: Schema.Array(Schema.String),
  createdAt: Schema.Date,
  revokedAt: Schema.NullOr(Schema.Date)
}) {}

export interface ApiKeysService {
  readonly create: (input: { readonly name: string; readonly scopes: ReadonlyArray<Scope> }) => Effect.Effect<{ readonly secret: string; readonly key: ApiKeyInfo }, Unavailable>
  /**
   * Registers a given secret (e.g. ACCT_BOOTSTRAP_KEY) unless it is registered already; one
   * shorter than MIN_SECRET_LENGTH is refused.
   */
  readonly ensure: (input: { readonly secret: string; readonly name: string; readonly scopes: ReadonlyArray<Scope> }) => Effect.Effect<ApiKeyInfo, InvalidRequest | Unavailable>
  readonly list: () => Effect.Effect<ReadonlyArray<ApiKeyInfo>, Unavailable>
  /** By key id or by the secret's prefix. */
  readonly revoke: (idOrPrefix: string) => Effect.Effect<ApiKeyInfo, NotFound | Unavailable>
  readonly verify: (secret: string) => Effect.Effect<Principal, Unauthorized | Unavailable>
}

export class ApiKeys extends Context.Tag("@acct/core/ApiKeys")<ApiKeys, ApiKeysService>() {}
