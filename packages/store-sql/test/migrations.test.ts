import { it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect, Layer } from "effect"
import { describe, expect } from "vitest"
import { migrations } from "../src/migrations.js"
import { SqliteStore } from "../src/sqlite.js"
import { tempDb } from "./harness.js"

const appliedIds = Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ migration_id: number }>`SELECT migration_id FROM acct_migrations ORDER BY migration_id`).pipe(
  Effect.map((rows) => rows.map((r) => r.migration_id))
)

const withStore = (filename: string) => <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.scoped(Effect.provide(effect, Layer.orDie(SqliteStore({ filename }))))

describe("migrations on opening a store", () => {
  it.effect("a database behind the newest migration is migrated to it (only an up-to-date one skips the migrator)", () =>
    Effect.gen(function* () {
      const all = (yield* migrations).map(([id]) => id)
      const file = tempDb()
      // A database made by an older acct: the first migration only.
      yield* Migrator.make({})({ loader: Effect.map(migrations, (list) => list.slice(0, 1)), table: "acct_migrations" }).pipe(
        Effect.provide(SqliteClient.layer({ filename: file })),
        Effect.scoped
      )
      expect(yield* appliedIds.pipe(Effect.provide(SqliteClient.layer({ filename: file })), Effect.scoped)).toEqual(all.slice(0, 1))

      expect(yield* withStore(file)(appliedIds)).toEqual(all)
      // And opening it again, now current, changes nothing.
      expect(yield* withStore(file)(appliedIds)).toEqual(all)
    })
  )
})
