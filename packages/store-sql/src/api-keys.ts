/** API keys on @effect/sql: SHA-256 of the secret stored, compared in constant time. */
import { ApiKeyInfo, ApiKeys, type ApiKeysService, InvalidRequest, keyPrefix, MIN_SECRET_LENGTH, NotFound, Principal, randomAlphanumeric, type Scope, Unauthorized, Unavailable } from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Effect, Layer } from "effect"
import { timingSafeEqual } from "node:crypto"
import { sha256 as hash } from "./sha256.js"
import { fromSqlError } from "./sql-errors.js"

interface KeyRow {
  readonly id: string
  readonly name: string
  readonly prefix: string
  readonly secret_hash: string
  readonly scopes: string
  readonly created_at: string
  readonly revoked_at: string | null
}

const toInfo = (row: KeyRow) =>
  new ApiKeyInfo(
    {
      id: row.id,
      name: row.name,
      // Rows from before the prefix convention may hold a short key whole: show no more than it allows.
      prefix: keyPrefix(row.prefix),
      scopes: JSON.parse(row.scopes),
      createdAt: new Date(row.created_at),
      revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at)
    },
    true
  )

const unauthorized = new Unauthorized({ message: "Token is invalid" })

/** Any database failure here means the key store cannot answer now. */
const db = <A, E, R>(effect: Effect.Effect<A, E | SqlError, R>): Effect.Effect<A, Exclude<E, SqlError> | Unavailable, R> =>
  Effect.catchIf(
    effect,
    (e): e is SqlError => (e as { _tag?: string })._tag === "SqlError",
    (e) => Effect.fail(new Unavailable({ message: fromSqlError(e).message }))
  ) as Effect.Effect<A, Exclude<E, SqlError> | Unavailable, R>

/**
 * Verified keys are remembered this long, sparing a query per request. A revocation clears the
 * entry at once in its own process; other processes (a running server after `acct keys revoke`)
 * honour it within this time.
 */
export const VERIFIED_KEY_TTL_MS = 5_000

export const makeSqlApiKeys = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const verified = new Map<string, { readonly principal: Principal; readonly until: number }>()
  const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

  const insert = (secret: string, name: string, scopes: ReadonlyArray<Scope>) =>
    Effect.gen(function* () {
      const row: KeyRow = {
        id: `key_${randomAlphanumeric(24)}`,
        name,
        prefix: keyPrefix(secret),
        secret_hash: hash(secret),
        scopes: JSON.stringify(scopes),
        created_at: yield* now,
        revoked_at: null
      }
      yield* sql`INSERT INTO api_keys ${sql.insert({ ...row })}`
      return toInfo(row)
    })

  const service: ApiKeysService = {
    create: ({ name, scopes }) =>
      Effect.gen(function* () {
        const secret = `acct_${randomAlphanumeric(40)}`
        return { secret, key: yield* insert(secret, name, scopes) }
      }).pipe(db),
    ensure: ({ secret, name, scopes }) =>
      Effect.gen(function* () {
        if (secret.length < MIN_SECRET_LENGTH) {
          return yield* new InvalidRequest({ message: `an API key must be at least ${MIN_SECRET_LENGTH} characters; this one has ${secret.length}` })
        }
        const rows = yield* sql<KeyRow>`SELECT * FROM api_keys WHERE secret_hash = ${hash(secret)}`
        return rows[0] ? toInfo(rows[0]) : yield* insert(secret, name, scopes)
      }).pipe(db),
    list: () =>
      sql<KeyRow>`SELECT * FROM api_keys ORDER BY created_at, id`.pipe(
        Effect.map((rows) => rows.map(toInfo)),
        db
      ),
    revoke: (idOrPrefix) =>
      Effect.gen(function* () {
        const rows = yield* sql<KeyRow>`SELECT * FROM api_keys WHERE id = ${idOrPrefix} OR prefix = ${idOrPrefix}`
        if (rows.length !== 1) return yield* NotFound.of("API key", idOrPrefix)
        const at = yield* now
        yield* sql`UPDATE api_keys SET revoked_at = ${at} WHERE id = ${rows[0]!.id} AND revoked_at IS NULL`
        verified.delete(rows[0]!.secret_hash)
        return toInfo({ ...rows[0]!, revoked_at: rows[0]!.revoked_at ?? at })
      }).pipe(db),
    // On every request: steps of the runtime rather than an Effect.gen (a remembered key is one step).
    verify: (secret) => {
      // Too short to be secret (a short key registered before the minimum no longer works).
      if (secret.length < MIN_SECRET_LENGTH || secret.length > 200) return Effect.fail(unauthorized)
      const presented = hash(secret)
      return Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        const remembered = verified.get(presented)
        if (remembered && remembered.until > now) return Effect.succeed(remembered.principal)
        return sql<KeyRow>`SELECT * FROM api_keys WHERE secret_hash = ${presented}`.pipe(
          Effect.flatMap((rows) => {
            const row = rows[0]
            // The lookup is by hash already; compare again in constant time so no timing difference
            // can tell how much of a guessed hash matched.
            if (!row || !timingSafeEqual(Buffer.from(row.secret_hash, "hex"), Buffer.from(presented, "hex")) || row.revoked_at !== null) {
              return Effect.fail(unauthorized)
            }
            const principal = Principal.make({ actor: { kind: "api-key", id: row.id, name: row.name }, scopes: JSON.parse(row.scopes) })
            if (verified.size >= 10_000) verified.clear()
            verified.set(presented, { principal, until: now + VERIFIED_KEY_TTL_MS })
            return Effect.succeed(principal)
          }),
          db
        )
      })
    }
  }
  return service
})

export const SqlApiKeysLive: Layer.Layer<ApiKeys, never, SqlClient.SqlClient> = Layer.effect(ApiKeys, makeSqlApiKeys)
