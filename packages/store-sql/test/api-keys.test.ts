/** API keys: a minimum length, and never more of a key shown than its prefix. */
import { ApiKeys, MIN_SECRET_LENGTH } from "@acct/core"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { SqliteStore } from "../src/index.js"

const run = <A, E>(effect: Effect.Effect<A, E, ApiKeys | SqlClient.SqlClient>) => Effect.runPromise(Effect.provide(effect, SqliteStore({ filename: ":memory:" })))

describe("API keys", () => {
  it("refuses to register a secret shorter than the minimum, and a short stored key no longer works", async () => {
    const refused = await run(Effect.flip(Effect.flatMap(ApiKeys, (keys) => keys.ensure({ secret: "Adm1n-s3cret", name: "short", scopes: ["admin"] }))))
    expect(refused._tag).toBe("InvalidRequest")
    expect(refused.message).toBe(`an API key must be at least ${MIN_SECRET_LENGTH} characters; this one has 12`)
    // A short key registered before the minimum existed (stored with the whole key as its prefix).
    const { listed, verified } = await run(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const { createHash } = yield* Effect.promise(() => import("node:crypto"))
        yield* sql`INSERT INTO api_keys (id, name, prefix, secret_hash, scopes, created_at, revoked_at)
          VALUES ('key_old', 'old', 'Adm1n-s3cret', ${createHash("sha256").update("Adm1n-s3cret").digest("hex")}, '["admin"]', '2026-01-01T00:00:00.000Z', NULL)`
        const keys = yield* ApiKeys
        return { listed: yield* keys.list(), verified: yield* Effect.either(keys.verify("Adm1n-s3cret")) }
      })
    )
    expect(listed.map((k) => k.prefix)).toEqual(["Adm1n-s3"])
    expect(verified._tag).toBe("Left")
  })

  it("shows acct's own keys as acct_ and 7 characters, others by their first 8", async () => {
    const prefixes = await run(
      Effect.gen(function* () {
        const keys = yield* ApiKeys
        const made = yield* keys.create({ name: "made", scopes: ["admin"] })
        const given = yield* keys.ensure({ secret: "s".repeat(8) + "x".repeat(40), name: "given", scopes: ["admin"] })
        return [made.secret.slice(0, 12) === made.key.prefix, given.prefix]
      })
    )
    expect(prefixes).toEqual([true, "ssssssss"])
  })
})
