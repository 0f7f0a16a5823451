/**
 * Account relations in the database: pages of an account's targets under a key, and the rows
 * a relation change or a consolidation writes. Knows rows and SQL only; the rules are core's
 * (relations.ts) and the frame's (mutation-frame.ts).
 */
import { type Account, type AccountsError, consolidationRelationMoves, type ListRelationsQuery, type Page, type RelationRow } from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import { Effect } from "effect"
import { paginate } from "./pages.js"
import { type AccountRow, toAccount } from "./rows.js"

export class RelationsRepository extends Effect.Service<RelationsRepository>()("@acct/store-sql/RelationsRepository", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    // The target accounts, ordered by when they were related (the relation's seq).
    const targetSelect = sql.literal(
      "SELECT r.seq AS seq, a.id, a.reference_id, a.account_type_id, t.name AS type_name, a.status, a.fields, a.tags, a.version, a.created_at, a.updated_at, a.redacted_at, a.consolidated_into FROM account_relations r JOIN accounts a ON a.id = r.target_id JOIN account_types t ON t.id = a.account_type_id"
    )

    const list = (accountId: string, query: ListRelationsQuery): Effect.Effect<Page<Account>, AccountsError | SqlError> =>
      Effect.gen(function* () {
        const conditions: Array<Fragment> = [sql`r.account_id = ${accountId}`, sql`r.relation_key = ${query.key}`]
        if (query.createdAtStart !== undefined) conditions.push(sql`r.created_at >= ${query.createdAtStart.toISOString()}`)
        if (query.createdAtEnd !== undefined) conditions.push(sql`r.created_at <= ${query.createdAtEnd.toISOString()}`)
        const page = yield* paginate<AccountRow>(
          query,
          (targetId) => sql`SELECT seq FROM account_relations WHERE account_id = ${accountId} AND relation_key = ${query.key} AND target_id = ${targetId}`,
          (cursor, order, limit) => {
            const all = cursor ? [...conditions, sql`r.seq ${sql.literal(cursor.op)} ${cursor.seq}`] : conditions
            return sql<AccountRow>`${targetSelect} WHERE ${sql.and(all)} ORDER BY r.seq ${sql.literal(order)} LIMIT ${limit}`
          }
        )
        return { items: page.rows.map(toAccount), next: page.next, prev: page.prev }
      })

    /** The account's targets under `key`, oldest first. */
    const targets = (accountId: string, key: string) =>
      Effect.map(
        sql<{ target_id: string }>`SELECT target_id FROM account_relations WHERE account_id = ${accountId} AND relation_key = ${key} ORDER BY seq`,
        (rows) => rows.map((r) => r.target_id)
      )

    /** Every relation of the account, by key, oldest first. */
    const allOf = (accountId: string) =>
      Effect.map(sql<{ relation_key: string; target_id: string }>`SELECT relation_key, target_id FROM account_relations WHERE account_id = ${accountId} ORDER BY seq`, (rows) => {
        const byKey = new Map<string, Array<string>>()
        for (const row of rows) byKey.set(row.relation_key, [...(byKey.get(row.relation_key) ?? []), row.target_id])
        return byKey
      })

    const insert = (accountId: string, key: string, targetIds: ReadonlyArray<string>, at: Date) =>
      targetIds.length === 0
        ? Effect.void
        : sql`INSERT INTO account_relations ${sql.insert(targetIds.map((target_id) => ({ account_id: accountId, relation_key: key, target_id, created_at: at.toISOString() })))}`.pipe(Effect.asVoid)

    /** Deletes one relation; whether it existed. */
    const remove = (accountId: string, key: string, targetId: string) =>
      Effect.map(
        sql<{ seq: number }>`DELETE FROM account_relations WHERE account_id = ${accountId} AND relation_key = ${key} AND target_id = ${targetId} RETURNING seq`,
        (rows) => rows.length > 0
      )

    const rowsWhere = (condition: Fragment) =>
      Effect.map(sql<{ account_id: string; relation_key: string; target_id: string }>`SELECT account_id, relation_key, target_id FROM account_relations WHERE ${condition} ORDER BY seq`, (rows) =>
        rows.map((r): RelationRow => ({ accountId: r.account_id, key: r.relation_key, targetId: r.target_id }))
      )

    /**
     * A consolidation's share: the destination's relations become `merged` (computed by core),
     * the sources lose theirs, and relations other accounts have to a source now name the
     * destination (once; one that would name the destination from itself is dropped). Answers
     * every relation added or removed (core's `consolidationRelationMoves`, the same rules), for
     * the events, audit entries and version steps of the accounts they belong to.
     */
    const consolidate = (destinationId: string, sourceIds: ReadonlyArray<string>, merged: ReadonlyMap<string, ReadonlyArray<string>>, at: Date) =>
      Effect.gen(function* () {
        if (sourceIds.length === 0) return []
        const own = yield* allOf(destinationId)
        const sourceRows = yield* rowsWhere(sql.in("account_id", sourceIds))
        const inbound = (yield* rowsWhere(sql.in("target_id", sourceIds))).filter((row) => !sourceIds.includes(row.accountId))
        const toDestination = yield* rowsWhere(sql`target_id = ${destinationId}`)
        const moves = consolidationRelationMoves({ destinationId, sourceIds, own, merged, sourceRows, inbound, toDestination })
        for (const [key, targetIds] of merged) {
          const have = own.get(key) ?? []
          yield* insert(destinationId, key, targetIds.filter((t) => !have.includes(t)), at)
        }
        yield* sql`DELETE FROM account_relations WHERE ${sql.in("account_id", sourceIds)}`
        // One source at a time: each statement then sees what the one before re-pointed.
        for (const sourceId of sourceIds) {
          yield* sql`UPDATE account_relations SET target_id = ${destinationId}
            WHERE target_id = ${sourceId} AND account_id <> ${destinationId}
            AND NOT EXISTS (SELECT 1 FROM account_relations o WHERE o.account_id = account_relations.account_id AND o.relation_key = account_relations.relation_key AND o.target_id = ${destinationId})`
        }
        yield* sql`DELETE FROM account_relations WHERE ${sql.in("target_id", sourceIds)}`
        return moves
      })

    return { list, targets, allOf, insert, remove, consolidate } as const
  })
}) {}
