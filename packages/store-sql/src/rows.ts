/** Database rows and their mapping to domain objects. JSON columns are text on both dialects. */
import { Account, AccountAction, AccountType, ActionRun } from "@acct/core"
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

export const toAccount = (row: AccountRow): Account =>
  Schema.decodeUnknownSync(Account)({
    id: row.id,
    referenceId: row.reference_id,
    accountTypeId: row.account_type_id,
    accountTypeName: row.type_name,
    status: row.status,
    fields: JSON.parse(row.fields),
    tags: JSON.parse(row.tags),
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    redactedAt: row.redacted_at,
    consolidatedInto: row.consolidated_into
  })

export interface RunRow {
  readonly seq: number
  readonly id: string
  readonly account_id: string
  readonly action_id: string | null
  readonly action_name: string
  readonly status: string
  readonly actor: string
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
  Schema.decodeUnknownSync(ActionRun)({
    id: row.id,
    accountId: row.account_id,
    actionId: row.action_id,
    actionName: row.action_name,
    status: row.status,
    actor: JSON.parse(row.actor),
    parameters: JSON.parse(row.parameters),
    statusBefore: row.status_before,
    statusAfter: row.status_after,
    events: JSON.parse(row.events),
    error: row.error,
    idempotencyKey: row.idempotency_key,
    startedAt: row.started_at,
    finishedAt: row.finished_at
  })

export interface DefinitionRow {
  readonly definition: string
}

export const toType = (row: DefinitionRow): AccountType => Schema.decodeUnknownSync(AccountType)(JSON.parse(row.definition))
export const toAction = (row: DefinitionRow): AccountAction => Schema.decodeUnknownSync(AccountAction)(JSON.parse(row.definition))

export const encodeType = (type: AccountType): string => JSON.stringify(Schema.encodeSync(AccountType)(type))
export const encodeAction = (action: AccountAction): string => JSON.stringify(Schema.encodeSync(AccountAction)(action))
