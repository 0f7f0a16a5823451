/**
 * Accounts and the catalog in the database: reads, pages, and versioned writes. Knows rows and
 * SQL, not permissions, idempotency or audit (see mutation-frame.ts and run-log.ts).
 */
import {
  type Account,
  type AccountRef,
  type AccountsError,
  type AccountType,
  AccountActionId,
  AccountTypeId,
  Conflict,
  InvalidState,
  type ListAccountsQuery,
  NotFound,
  type Page
} from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import { Data, Effect } from "effect"
import { inTransaction, makeRead } from "./statements.js"
import { paginate } from "./pages.js"
import { writeSearchValues } from "./search.js"
import { type AccountRow, type DefinitionRow, toAccount, toAction, toType } from "./rows.js"

/**
 * The columns an update writes: the version and time always, the rest only when changed. Core's
 * changes build a new account from the old one and keep what they do not touch (the same
 * `fields` and `tags` objects), so a status change does not re-serialise and rewrite the
 * fields, nor touch the reference id's unique index.
 */
const changedColumns = (before: Account, after: Account): Record<string, unknown> => {
  const columns: Record<string, unknown> = { version: after.version, updated_at: after.updatedAt.toISOString() }
  if (after.referenceId !== before.referenceId) columns.reference_id = after.referenceId
  if (after.status !== before.status) columns.status = after.status
  if (after.fields !== before.fields) columns.fields = JSON.stringify(after.fields)
  if (after.tags !== before.tags) columns.tags = JSON.stringify(after.tags)
  if (after.redactedAt?.getTime() !== before.redactedAt?.getTime()) columns.redacted_at = after.redactedAt?.toISOString() ?? null
  if (after.consolidatedInto !== before.consolidatedInto) columns.consolidated_into = after.consolidatedInto
  return columns
}

/** The row changed between our read and our write; re-read and try again. */
export class StaleRead extends Data.TaggedError("StaleRead")<{ readonly accountId: string }> {}

export const notFound = (ref: AccountRef) =>
  "id" in ref
    ? NotFound.of("account", ref.id)
    : new NotFound({ entity: "account", ref: ref.referenceId, message: `no account with reference id ${JSON.stringify(ref.referenceId)}` })

export class AccountsRepository extends Effect.Service<AccountsRepository>()("@acct/store-sql/AccountsRepository", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const read = yield* makeRead

    const accountSelect = sql.literal("SELECT a.*, t.name AS type_name FROM accounts a JOIN account_types t ON t.id = a.account_type_id")
    // For changes: the account and its type's definition in one round trip.
    const accountWithTypeSelect = sql.literal("SELECT a.*, t.name AS type_name, t.definition FROM accounts a JOIN account_types t ON t.id = a.account_type_id")
    // On Postgres, lock the row for the transaction so concurrent writers queue rather than race
    // on the version (SQLite already admits one writer at a time).
    const lockForChange = sql.onDialectOrElse({ pg: () => sql.literal(" FOR UPDATE OF a"), orElse: () => sql.literal("") })

    const findAccount = (ref: AccountRef): Effect.Effect<Account, NotFound | SqlError> =>
      Effect.flatMap(
        "id" in ref
          ? read(sql<AccountRow>`${accountSelect} WHERE a.id = ${ref.id}`)
          : read(sql<AccountRow>`${accountSelect} WHERE a.reference_id = ${ref.referenceId}`),
        (rows) => (rows[0] ? Effect.succeed(toAccount(rows[0])) : Effect.fail(notFound(ref)))
      )

    /** A catalog entry by id (when the text looks like one) or by name. */
    const findDefinition =
      <A>(table: "account_types" | "account_actions", entity: string, isId: (s: string) => boolean, decode: (row: DefinitionRow) => A) =>
      (idOrName: string) =>
        Effect.flatMap(
          read(sql<DefinitionRow>`SELECT definition FROM ${sql(table)} WHERE ${sql(isId(idOrName) ? "id" : "name")} = ${idOrName}`),
          (rows) => (rows[0] ? Effect.succeed(decode(rows[0])) : Effect.fail(NotFound.of(entity, idOrName)))
        )
    const findType = findDefinition("account_types", "account type", AccountTypeId.is, toType)
    const findAction = findDefinition("account_actions", "account action", AccountActionId.is, toAction)

    const listTypes = Effect.map(read(sql<DefinitionRow>`SELECT definition FROM account_types ORDER BY name`), (rows) => rows.map(toType))
    const listActions = (accountTypeId?: string) =>
      Effect.map(
        accountTypeId !== undefined
          ? read(sql<DefinitionRow>`SELECT definition FROM account_actions WHERE account_type_id = ${accountTypeId} ORDER BY name`)
          : read(sql<DefinitionRow>`SELECT definition FROM account_actions ORDER BY name`),
        (rows) => rows.map(toAction)
      )

    const list = (query: ListAccountsQuery): Effect.Effect<Page<Account>, AccountsError | SqlError> =>
      Effect.gen(function* () {
        const conditions: Array<Fragment> = []
        if (query.accountType !== undefined) {
          const type = yield* findType(query.accountType)
          conditions.push(sql`a.account_type_id = ${type.id}`)
        }
        if (typeof query.referenceId === "string") conditions.push(sql`a.reference_id = ${query.referenceId}`)
        else if (query.referenceId !== undefined) conditions.push(query.referenceId.length > 0 ? sql`a.reference_id IN ${sql.in(query.referenceId)}` : sql.literal("1=0"))
        if (query.status !== undefined) conditions.push(sql`a.status = ${query.status}`)
        if (query.tag !== undefined) conditions.push(sql`EXISTS (SELECT 1 FROM account_tags g WHERE g.account_id = a.id AND g.tag = ${query.tag})`)
        if (!query.includeArchived) conditions.push(sql`a.consolidated_into IS NULL`)
        const page = yield* paginate<AccountRow>(
          query,
          (id) => read(sql<{ seq: number }>`SELECT seq FROM accounts WHERE id = ${id}`),
          (cursor, order, limit) => {
            const all = cursor ? [...conditions, sql`a.seq ${sql.literal(cursor.op)} ${cursor.seq}`] : conditions
            return read(sql<AccountRow>`${accountSelect} WHERE ${all.length > 0 ? sql.and(all) : sql.literal("1=1")} ORDER BY a.seq ${sql.literal(order)} LIMIT ${limit}`)
          }
        )
        return { items: page.rows.map(toAccount), next: page.next, prev: page.prev }
      })

    const whereRef = (ref: AccountRef) => ("id" in ref ? sql`a.id = ${ref.id}` : sql`a.reference_id = ${ref.referenceId}`)

    /** Refuses a pinned version that moved, and an archived (consolidated) account unless `allow.archived`. */
    const checkForChange = (
      ref: AccountRef,
      row: (AccountRow & DefinitionRow) | undefined,
      expectedVersion: number | undefined,
      allow: { readonly archived?: boolean } = {}
    ): Effect.Effect<{ account: Account; type: AccountType }, AccountsError> => {
      if (!row) return Effect.fail(notFound(ref))
      const account = toAccount(row)
      return expectedVersion !== undefined && expectedVersion !== account.version
        ? Effect.fail(new Conflict({ message: `account ${account.id} is at version ${account.version}, not ${expectedVersion}; read it again and retry` }))
        : account.consolidatedInto !== null && !allow.archived
          ? Effect.fail(new InvalidState({ currentStatus: account.status, message: `account ${account.id} was consolidated into ${account.consolidatedInto} and is archived; act on that account instead` }))
          : Effect.succeed({ account, type: toType(row) })
    }

    /**
     * The account (and its type) for a change, locked on Postgres; refuses a pinned version that
     * moved, and an archived (consolidated) account unless `allow.archived`.
     */
    const loadForChange = (
      ref: AccountRef,
      expectedVersion: number | undefined,
      allow: { readonly archived?: boolean } = {}
    ): Effect.Effect<{ account: Account; type: AccountType }, AccountsError | SqlError> =>
      Effect.flatMap(inTransaction(sql<AccountRow & DefinitionRow>`${accountWithTypeSelect} WHERE ${whereRef(ref)}${lockForChange}`), (rows) => checkForChange(ref, rows[0], expectedVersion, allow))

    /**
     * A run's one read: loadForChange's row (locked likewise, not yet checked: `checkForChange`)
     * and the action named by id or name, in the same statement — the definition is read in the
     * transaction, so a catalog change another process commits is seen at once, with no cache to
     * keep in step. `row` undefined: no such account (the action is then not looked at).
     */
    const readForRun = (ref: AccountRef, actionRef: string) =>
      Effect.map(
        inTransaction(sql<AccountRow & DefinitionRow & { readonly action_definition: string | null }>`SELECT a.*, t.name AS type_name, t.definition, (SELECT definition FROM account_actions WHERE ${sql(AccountActionId.is(actionRef) ? "id" : "name")} = ${actionRef} LIMIT 1) AS action_definition FROM accounts a JOIN account_types t ON t.id = a.account_type_id WHERE ${whereRef(ref)}${lockForChange}`),
        (rows) => {
          const row = rows[0]
          return { row, action: row?.action_definition ? toAction({ definition: row.action_definition }) : undefined }
        }
      )

    /** Refuses a reference id another account holds. */
    const claimReferenceId = (referenceId: string) =>
      Effect.flatMap(sql<{ id: string }>`SELECT id FROM accounts WHERE reference_id = ${referenceId}`, (taken) =>
        taken[0] ? Effect.fail(new Conflict({ message: `an account with reference id ${JSON.stringify(referenceId)} already exists (${taken[0].id})` })) : Effect.void
      )

    /**
     * Inserts, or updates guarded by the version read (else StaleRead); keeps the tag index and
     * the type's searchable values in step.
     */
    const writeAccount = (before: Account | undefined, after: Account, type: Pick<AccountType, "fields">) =>
      Effect.gen(function* () {
        let seq: number
        if (before === undefined) {
          const values = {
            id: after.id,
            account_type_id: after.accountTypeId,
            created_at: after.createdAt.toISOString(),
            reference_id: after.referenceId,
            status: after.status,
            fields: JSON.stringify(after.fields),
            tags: JSON.stringify(after.tags),
            version: after.version,
            updated_at: after.updatedAt.toISOString(),
            redacted_at: after.redactedAt?.toISOString() ?? null,
            consolidated_into: after.consolidatedInto
          }
          const inserted = yield* inTransaction(sql<{ seq: number }>`INSERT INTO accounts ${sql.insert(values)} RETURNING seq`)
          seq = Number(inserted[0]!.seq)
        } else {
          const updated = yield* inTransaction(sql<{ seq: number }>`UPDATE accounts SET ${sql.update(changedColumns(before, after))} WHERE id = ${after.id} AND version = ${before.version} RETURNING seq`)
          if (updated.length === 0) return yield* new StaleRead({ accountId: after.id })
          seq = Number(updated[0]!.seq)
        }
        yield* writeSearchValues(sql, seq, type, before?.fields, after.fields)
        const oldTags = before?.tags ?? []
        const removed = oldTags.filter((t) => !after.tags.includes(t))
        const added = after.tags.filter((t) => !oldTags.includes(t))
        if (removed.length > 0) yield* inTransaction(sql`DELETE FROM account_tags WHERE account_id = ${after.id} AND ${sql.in("tag", removed)}`)
        if (added.length > 0) yield* inTransaction(sql`INSERT INTO account_tags ${sql.insert(added.map((tag) => ({ account_id: after.id, tag })))}`)
      })

    return { findAccount, findType, findAction, listTypes, listActions, list, loadForChange, checkForChange, readForRun, claimReferenceId, writeAccount } as const
  })
}) {}
