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
import { inTransaction } from "./statements.js"
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
    (batch) => inTransaction(sql`INSERT INTO account_search_values ${sql.insert(batch.map((r) => ({ account_seq: r.seq, attribute: r.attribute, text_value: r.text, number_value: r.number })))}`),
    { discard: true }
  )

/** Keeps an account's searchable values in step with a write; untouched when they did not change. */
export const writeSearchValues = (sql: Sql, seq: number, type: Pick<AccountType, "fields">, before: Fields | undefined, after: Fields) =>
  Effect.gen(function* () {
    // The same fields object: the change did not touch them (see changedColumns).
    if (before === after) return
    const searchable = searchableFields(type)
    if (searchable.length === 0) return
    const next = searchValues(searchable, after)
    if (before !== undefined) {
      if (JSON.stringify(searchValues(searchable, before)) === JSON.stringify(next)) return
      yield* inTransaction(sql`DELETE FROM account_search_values WHERE account_seq = ${seq}`)
    }
    if (next.length > 0) yield* insertValues(sql, next.map((v) => ({ seq, ...v })))
  })

/** The searchable values of new accounts of one type, written in bulk (an import's chunk). */
export const writeNewSearchValues = (sql: Sql, type: Pick<AccountType, "fields">, accounts: ReadonlyArray<{ readonly seq: number; readonly fields: Fields }>) => {
  const searchable = searchableFields(type)
  return searchable.length === 0 ? Effect.void : insertValues(sql, accounts.flatMap((a) => searchValues(searchable, a.fields).map((v) => ({ seq: a.seq, ...v }))))
}

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

/**
 * A predicate as SQL. A field or tag predicate is normally an `IN (…)` list, which SQLite and
 * Postgres can drive the search from (one index lookup, then the accounts by key); under `not`
 * it cannot drive anything, so it becomes a per-account `EXISTS` probe instead of a list of
 * every account that has the value (10,000 rows for a country, say).
 */
const predicate = (sql: Sql, target: SearchTarget, operator: SearchOperator, value: string | number, probe: boolean): Fragment => {
  const op = sql.literal(OPERATOR[operator])
  if (target.kind === "field") {
    const compare = sql`attribute = ${target.attribute} AND ${sql(valueColumn(target.valueKind))} ${op} ${value}`
    return probe
      ? sql`EXISTS (SELECT 1 FROM account_search_values s WHERE s.account_seq = a.seq AND ${compare})`
      : sql`a.seq IN (SELECT account_seq FROM account_search_values WHERE ${compare})`
  }
  switch (target.column) {
    case "type":
      return sql`a.account_type_id = ${value}`
    case "status":
      return sql`a.status = ${value}`
    case "tags":
      return probe ? sql`EXISTS (SELECT 1 FROM account_tags g WHERE g.account_id = a.id AND g.tag = ${value})` : sql`a.id IN (SELECT account_id FROM account_tags WHERE tag = ${value})`
    case "created_at":
      return sql`a.created_at ${op} ${value}`
    case "updated_at":
      return sql`a.updated_at ${op} ${value}`
    case "reference_id":
      // Never NULL, so that `not` of it matches the accounts without a reference id.
      return sql`(a.reference_id IS NOT NULL AND a.reference_id ${op} ${value})`
  }
}

const whereOf = (sql: Sql, node: ResolvedNode, probe = false): Fragment => {
  switch (node.kind) {
    case "predicate":
      return predicate(sql, node.target, node.operator, node.value, probe)
    case "and":
      return sql.and(node.nodes.map((n) => whereOf(sql, n, probe)))
    case "or":
      return sql.or(node.nodes.map((n) => whereOf(sql, n, probe)))
    case "not":
      return sql`NOT (${whereOf(sql, node.node, true)})`
  }
}

/**
 * How a sort reads: the accounts that have a value, in key order, from an index that holds that
 * order (a field's values are walked in the side table's (attribute, value, account) index), then
 * the accounts without one (`missing`), newest or oldest first, as `seq` breaks ties.
 */
interface SortPlan {
  readonly from: Fragment
  readonly key: Fragment | undefined
  /** The tie-breaker, from the table whose index holds the order. */
  readonly seq: Fragment
  readonly present: ReadonlyArray<Fragment>
  /** Where the accounts without a value are, when there can be any. */
  readonly missing: Fragment | undefined
}

const accountsFrom = (sql: Sql) => sql.literal("FROM accounts a JOIN account_types t ON t.id = a.account_type_id")

const sortPlan = (sql: Sql, target: SearchTarget | undefined): SortPlan => {
  const plain = { from: accountsFrom(sql), seq: sql.literal("a.seq"), present: [], missing: undefined }
  if (target === undefined) return { ...plain, key: undefined }
  if (target.kind === "field") {
    const column = sql(valueColumn(target.valueKind))
    return {
      from: sql`FROM account_search_values k JOIN accounts a ON a.seq = k.account_seq JOIN account_types t ON t.id = a.account_type_id`,
      key: sql`k.${column}`,
      seq: sql.literal("k.account_seq"),
      present: [sql`k.attribute = ${target.attribute}`, sql`k.${column} IS NOT NULL`],
      missing: sql`NOT EXISTS (SELECT 1 FROM account_search_values m WHERE m.account_seq = a.seq AND m.attribute = ${target.attribute} AND m.${column} IS NOT NULL)`
    }
  }
  if (target.column === "reference_id") return { ...plain, key: sql.literal("a.reference_id"), present: [sql.literal("a.reference_id IS NOT NULL")], missing: sql.literal("a.reference_id IS NULL") }
  const column: Record<Exclude<typeof target.column, "tags" | "reference_id">, string> = { type: "t.name", status: "a.status", created_at: "a.created_at", updated_at: "a.updated_at" }
  return { ...plain, key: sql.literal(column[target.column as keyof typeof column]) }
}

interface Position {
  readonly seq: number
  readonly key: string | number | null
}

/** One page of a resolved search. */
export const searchPage = (sql: Sql, query: SearchAccountsQuery, resolved: ResolvedSearch): Effect.Effect<Page<Account>, AccountsError | SqlError> => {
  const plan = sortPlan(sql, resolved.sort?.target)
  const descending = (resolved.sort?.direction ?? "desc") === "desc"
  const filters = [sql`a.consolidated_into IS NULL`, ...(resolved.where ? [whereOf(sql, resolved.where)] : [])]

  /** `limit` rows of one segment, beyond `at` in the page order (nearest first going backwards). */
  const segment = (segment: "present" | "missing", at: Position | undefined, backwards: boolean, limit: number) => {
    const forward = descending !== backwards
    const cmp = sql.literal(forward ? "<" : ">")
    const dir = sql.literal(forward ? "DESC" : "ASC")
    const present = segment === "present"
    const key = present ? plan.key : undefined
    const seq = present ? plan.seq : sql.literal("a.seq")
    // A row-value comparison: both databases read it as a range of the (key, seq) index.
    const beyond = at === undefined ? [] : key === undefined ? [sql`${seq} ${cmp} ${at.seq}`] : [sql`(${key}, ${seq}) ${cmp} (${at.key}, ${at.seq})`]
    const where = [...filters, ...(present ? plan.present : [plan.missing!]), ...beyond]
    const order = key === undefined ? sql`${seq} ${dir}` : sql`${key} ${dir}, ${seq} ${dir}`
    return sql<AccountRow>`SELECT a.*, t.name AS type_name ${present ? plan.from : accountsFrom(sql)} WHERE ${sql.and(where)} ORDER BY ${order} LIMIT ${limit}`
  }

  /** Rows after the cursor (or before it, going backwards): within its segment, then on into the other one. */
  const fetch = (at: Position | undefined, backwards: boolean, limit: number) =>
    Effect.gen(function* () {
      if (plan.missing === undefined) return yield* segment("present", at, backwards, limit)
      const inMissing = at !== undefined && at.key === null
      const [first, second] = backwards ? (inMissing ? (["missing", "present"] as const) : (["present", undefined] as const)) : inMissing ? (["missing", undefined] as const) : (["present", "missing"] as const)
      const rows = yield* segment(first, at, backwards, limit)
      if (second === undefined || rows.length >= limit) return rows
      return [...rows, ...(yield* segment(second, undefined, backwards, limit - rows.length))]
    })

  return Effect.map(
    paginateWith<AccountRow, Position>(
      query,
      (id) =>
        Effect.map(
          plan.key === undefined
            ? sql<{ seq: number; sort_key: null }>`SELECT a.seq, NULL AS sort_key FROM accounts a WHERE a.id = ${id}`
            : plan.missing === undefined
              ? sql<{ seq: number; sort_key: string | number | null }>`SELECT a.seq, ${plan.key} AS sort_key ${accountsFrom(sql)} WHERE a.id = ${id}`
              : // The cursor account's own value, or NULL when it has none.
                sql<{ seq: number; sort_key: string | number | null }>`SELECT a.seq, (SELECT ${plan.key} ${plan.from} WHERE ${sql.and([...plan.present, sql`a.id = ${id}`])}) AS sort_key FROM accounts a WHERE a.id = ${id}`,
          (rows) => (rows[0] ? { seq: Number(rows[0].seq), key: rows[0].sort_key } : undefined)
        ),
      fetch
    ),
    (page) => ({ items: page.rows.map(toAccount), next: page.next, prev: page.prev })
  )
}
