/**
 * Search in SQL, the same on SQLite and Postgres. Searchable field values live in a side table
 * (`account_search_values`: account, field path, text or number value), indexed by field and
 * value and written with every account change, so a field predicate is an index lookup
 * (`a.seq IN (…)`) whatever the JSON looks like; account columns use their own indexes.
 * Values are always parameters; only operators and column names, chosen here from fixed sets,
 * are written into the statement. Pages are keyset pages on (sort key, seq), so a cursor stays
 * valid while accounts change around it.
 */
import {
  type AccountsError,
  type AccountType,
  type Fields,
  type Page,
  type ResolvedNode,
  type ResolvedSearch,
  type SearchAccountsQuery,
  searchableFields,
  type SearchOperator,
  type SearchTarget,
  searchValues,
  type Account
} from "@acct/core"
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import { Effect } from "effect"
import { paginateWith } from "./pages.js"
import { type AccountRow, toAccount } from "./rows.js"

type Sql = SqlClient.SqlClient

const OPERATOR: Readonly<Record<SearchOperator, string>> = { eq: "=", gt: ">", gte: ">=", lt: "<", lte: "<=" }

const valueColumn = (kind: "text" | "number") => (kind === "number" ? "number_value" : "text_value")

/** Rows at a time when rebuilding the values of a type (4 parameters per row, well under SQLite's limit). */
const BATCH = 500

const insertValues = (sql: Sql, rows: ReadonlyArray<{ seq: number; attribute: string; text: string | null; number: number | null }>) =>
  Effect.forEach(
    Array.from({ length: Math.ceil(rows.length / BATCH) }, (_, i) => rows.slice(i * BATCH, (i + 1) * BATCH)),
    (batch) => sql`INSERT INTO account_search_values ${sql.insert(batch.map((r) => ({ account_seq: r.seq, attribute: r.attribute, text_value: r.text, number_value: r.number })))}`,
    { discard: true }
  )

/** Keeps an account's searchable values in step with a write; untouched when they did not change. */
export const writeSearchValues = (sql: Sql, seq: number, type: Pick<AccountType, "fields">, before: Fields | undefined, after: Fields) =>
  Effect.gen(function* () {
    const searchable = searchableFields(type)
    if (searchable.length === 0) return
    const next = searchValues(searchable, after)
    if (before !== undefined) {
      if (JSON.stringify(searchValues(searchable, before)) === JSON.stringify(next)) return
      yield* sql`DELETE FROM account_search_values WHERE account_seq = ${seq}`
    }
    if (next.length > 0) yield* insertValues(sql, next.map((v) => ({ seq, ...v })))
  })

/** Rebuilds the values of every account of a type, after the catalog changed what is searchable. */
export const reindexType = (sql: Sql, type: AccountType) =>
  Effect.gen(function* () {
    const searchable = searchableFields(type)
    yield* sql`DELETE FROM account_search_values WHERE account_seq IN (SELECT seq FROM accounts WHERE account_type_id = ${type.id})`
    if (searchable.length === 0) return
    let after = -1
    for (;;) {
      const rows = yield* sql<{ seq: number; fields: string }>`SELECT seq, fields FROM accounts WHERE account_type_id = ${type.id} AND seq > ${after} ORDER BY seq LIMIT 1000`
      if (rows.length === 0) return
      yield* insertValues(sql, rows.flatMap((row) => searchValues(searchable, JSON.parse(row.fields)).map((v) => ({ seq: Number(row.seq), ...v }))))
      after = Number(rows[rows.length - 1]!.seq)
    }
  })

const predicate = (sql: Sql, target: SearchTarget, operator: SearchOperator, value: string | number): Fragment => {
  const op = sql.literal(OPERATOR[operator])
  if (target.kind === "field") {
    return sql`a.seq IN (SELECT account_seq FROM account_search_values WHERE attribute = ${target.attribute} AND ${sql(valueColumn(target.valueKind))} ${op} ${value})`
  }
  switch (target.column) {
    case "type":
      return sql`a.account_type_id = ${value}`
    case "status":
      return sql`a.status = ${value}`
    case "tags":
      return sql`a.id IN (SELECT account_id FROM account_tags WHERE tag = ${value})`
    case "created_at":
      return sql`a.created_at ${op} ${value}`
    case "updated_at":
      return sql`a.updated_at ${op} ${value}`
    case "reference_id":
      // Never NULL, so that `not` of it matches the accounts without a reference id.
      return sql`(a.reference_id IS NOT NULL AND a.reference_id ${op} ${value})`
  }
}

export const whereOf = (sql: Sql, node: ResolvedNode): Fragment => {
  switch (node.kind) {
    case "predicate":
      return predicate(sql, node.target, node.operator, node.value)
    case "and":
      return sql.and(node.nodes.map((n) => whereOf(sql, n)))
    case "or":
      return sql.or(node.nodes.map((n) => whereOf(sql, n)))
    case "not":
      return sql`NOT (${whereOf(sql, node.node)})`
  }
}

/** The sort key: an expression, whether it can be NULL (missing values sort last either way), and the join it needs. */
const sortKey = (sql: Sql, target: SearchTarget | undefined): { readonly key: Fragment | undefined; readonly nullable: boolean; readonly join: Fragment } => {
  const none = sql.literal("")
  if (target === undefined) return { key: undefined, nullable: false, join: none }
  if (target.kind === "field") {
    return {
      key: sql`k.${sql(valueColumn(target.valueKind))}`,
      nullable: true,
      join: sql` LEFT JOIN account_search_values k ON k.account_seq = a.seq AND k.attribute = ${target.attribute}`
    }
  }
  const column: Record<Exclude<typeof target.column, "tags">, string> = { type: "t.name", status: "a.status", created_at: "a.created_at", updated_at: "a.updated_at", reference_id: "a.reference_id" }
  return { key: sql.literal(column[target.column as Exclude<typeof target.column, "tags">]), nullable: target.column === "reference_id", join: none }
}

interface Position {
  readonly seq: number
  readonly key: string | number | null
}

/** One page of a resolved search. */
export const searchPage = (sql: Sql, query: SearchAccountsQuery, resolved: ResolvedSearch): Effect.Effect<Page<Account>, AccountsError | SqlError> => {
  const { key, nullable, join } = sortKey(sql, resolved.sort?.target)
  const descending = (resolved.sort?.direction ?? "desc") === "desc"
  const from = sql`FROM accounts a JOIN account_types t ON t.id = a.account_type_id${join}`
  const filters = [sql`a.consolidated_into IS NULL`, ...(resolved.where ? [whereOf(sql, resolved.where)] : [])]

  /** Rows after `at` in the page order (or before it, going backwards). */
  const beyond = (at: Position, backwards: boolean): Fragment => {
    const forward = descending !== backwards
    const cmp = sql.literal(forward ? "<" : ">")
    const seq = sql`a.seq ${cmp} ${at.seq}`
    if (key === undefined) return seq
    // Missing values come last in the page order: after every value going forwards, before none going backwards.
    if (at.key === null) return backwards ? sql`(${key} IS NOT NULL OR ${seq})` : sql`(${key} IS NULL AND ${seq})`
    const past = sql`(${key} ${cmp} ${at.key} OR (${key} = ${at.key} AND ${seq}))`
    return nullable && !backwards ? sql`(${past} OR ${key} IS NULL)` : past
  }

  const order = (backwards: boolean): Fragment => {
    const reverse = descending === backwards
    const dir = sql.literal(reverse ? "ASC" : "DESC")
    if (key === undefined) return sql`a.seq ${dir}`
    const nulls = sql.literal(nullable ? (backwards ? " NULLS FIRST" : " NULLS LAST") : "")
    return sql`${key} ${dir}${nulls}, a.seq ${dir}`
  }

  return Effect.map(
    paginateWith<AccountRow, Position>(
      query,
      (id) =>
        Effect.map(
          sql<{ seq: number; sort_key: string | number | null }>`SELECT a.seq, ${key ?? sql.literal("NULL")} AS sort_key ${from} WHERE a.id = ${id}`,
          (rows) => (rows[0] ? { seq: Number(rows[0].seq), key: rows[0].sort_key } : undefined)
        ),
      (cursor, backwards, limit) => {
        const all = cursor ? [...filters, beyond(cursor, backwards)] : filters
        return sql<AccountRow>`SELECT a.*, t.name AS type_name ${from} WHERE ${sql.and(all)} ORDER BY ${order(backwards)} LIMIT ${limit}`
      }
    ),
    (page) => ({ items: page.rows.map(toAccount), next: page.next, prev: page.prev })
  )
}
