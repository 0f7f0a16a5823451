/**
 * API keys: the secret is shown once at creation; only its SHA-256 is stored. Verifying a
 * presented key answers the Principal it stands for, or Unauthorized.
 */
import { Context, type Effect, Schema } from "effect"
import type { NotFound, Unauthorized, Unavailable } from "./errors.js"
import type { Principal, Scope } from "./principal.js"

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
  /** Registers a given secret (e.g. ACCT_BOOTSTRAP_KEY) unless it is registered already. */
  readonly ensure: (input: { readonly secret: string; readonly name: string; readonly scopes: ReadonlyArray<Scope> }) => Effect.Effect<ApiKeyInfo, Unavailable>
  readonly list: () => Effect.Effect<ReadonlyArray<ApiKeyInfo>, Unavailable>
  /** By key id or by the secret's prefix. */
  readonly revoke: (idOrPrefix: string) => Effect.Effect<ApiKeyInfo, NotFound | Unavailable>
  readonly verify: (secret: string) => Effect.Effect<Principal, Unauthorized | Unavailable>
}

export class ApiKeys extends Context.Tag("@acct/core/ApiKeys")<ApiKeys, ApiKeysService>() {}
