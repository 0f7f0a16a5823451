/**
 * Database rows and their mapping to domain objects. JSON columns are text on both dialects.
 * Rows are written only by this store, after validation, so reading them back builds domain
 * objects without decoding them through their schemas again (the store's hot path).
 */
import {
  Account,
  AccountAction,
  type AccountActionId,
  type AccountId,
  AccountType,
  type AccountTypeId,
  ActionRun,
  type ActionRunId
} from "@acct/core"
import { Schema } from "effect"

export interface AccountRow {
  readonly seq: number
  readonly id: string
  readonly reference_id: string | null
  readonly account_type_id: string
  readonly type_name: string
  readonly status: string
  readonly fields: string
  readonly tags: string
  readonly version: number
  readonly created_at: string
  readonly updated_at: string
  readonly redacted_at: string | null
  readonly consolidated_into: string | null
}

const date = (iso: string) => new Date(iso)

export const toAccount = (row: AccountRow): Account =>
  new Account(
    {
      id: row.id as AccountId,
      referenceId: row.reference_id,
      accountTypeId: row.account_type_id as AccountTypeId,
      accountTypeName: row.type_name,
      status: row.status,
      fields: JSON.parse(row.fields),
      tags: JSON.parse(row.tags),
      version: Number(row.version),
      createdAt: date(row.created_at),
      updatedAt: date(row.updated_at),
      redactedAt: row.redacted_at === null ? null : date(row.redacted_at),
      consolidatedInto: row.consolidated_into as AccountId | null
    },
    true
  )

export interface RunRow {
  readonly seq: number
  readonly id: string
  readonly account_id: string
  readonly action_id: string | null
  readonly action_name: string
  readonly status: string
  readonly actor: string
  readonly via: string | null
  readonly parameters: string
  readonly status_before: string
  readonly status_after: string
  readonly events: string
  readonly error: string | null
  readonly idempotency_key: string | null
  readonly started_at: string
  readonly finished_at: string
}

export const toRun = (row: RunRow): ActionRun =>
  new ActionRun(
    {
      id: row.id as ActionRunId,
      accountId: row.account_id as AccountId,
      actionId: row.action_id as AccountActionId | null,
      actionName: row.action_name,
      status: row.status as ActionRun["status"],
      actor: JSON.parse(row.actor),
      via: row.via === null || row.via === undefined ? null : JSON.parse(row.via),
      parameters: JSON.parse(row.parameters),
      statusBefore: row.status_before,
      statusAfter: row.status_after,
      events: JSON.parse(row.events),
      error: row.error,
      idempotencyKey: row.idempotency_key,
      startedAt: date(row.started_at),
      finishedAt: date(row.finished_at)
    },
    true
  )

export interface DefinitionRow {
  readonly definition: string
}

/**
 * Catalog definitions are decoded through their schemas (they hold nested field schemas and
 * steps), and memoized by their text: the same text always decodes to the same value, so the
 * cache can never be stale, even when another process reloads the catalog.
 */
const memoByText = <A>(decode: (text: string) => A) => {
  const cache = new Map<string, A>()
  return (row: DefinitionRow): A => {
    let value = cache.get(row.definition)
    if (value === undefined) {
      if (cache.size >= 1000) cache.clear()
      value = decode(row.definition)
      cache.set(row.definition, value)
    }
    return value
  }
}

export const toType = memoByText((text) => Schema.decodeUnknownSync(AccountType)(JSON.parse(text)))
export const toAction = memoByText((text) => Schema.decodeUnknownSync(AccountAction)(JSON.parse(text)))

export const encodeType = (type: AccountType): string => JSON.stringify(Schema.encodeSync(AccountType)(type))
export const encodeAction = (action: AccountAction): string => JSON.stringify(Schema.encodeSync(AccountAction)(action))
