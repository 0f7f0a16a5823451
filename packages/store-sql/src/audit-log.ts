/**
 * The audit trail, read back: every change and refusal the store recorded (who, through which
 * channel, why, the status before and after), newest first, a page at a time. Read-only; the
 * entries are written by the store's mutations (sql-accounts.ts).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { fromSqlError } from "./sql-errors.js"

export interface AuditEntry {
  /** Position in the log; also the paging cursor. */
  readonly seq: number
  readonly at: Date
  readonly actor: { readonly kind: string; readonly id: string; readonly name: string }
  /** The API key the actor (a person a front end named) acted through, else null. */
  readonly via: { readonly kind: string; readonly id: string; readonly name: string } | null
  readonly channel: string
  /** The port operation: create, update, add-tag, redact, lifecycle:enable, run-action, … */
  readonly operation: string
  readonly accountId: string | null
  readonly runId: string | null
  readonly statusBefore: string | null
  readonly statusAfter: string | null
  /** `ok`, or `refused:<error tag>`. */
  readonly outcome: string
  readonly reason: string | null
  readonly requestId: string | null
}

export interface AuditQuery {
  /** An account id (act_…). */
  readonly accountId?: string | undefined
  /** Matches the actor's kind (cli, slack, api-key, system), id, name, or `kind:id`; or the key it acted through by id or name. */
  readonly actor?: string | undefined
  readonly since?: Date | undefined
  /** 1–100 (default 10). */
  readonly size?: number | undefined
  /** Entries older than this cursor (a `next` from an earlier page). */
  readonly after?: string | undefined
}

export interface AuditPage {
  readonly items: ReadonlyArray<AuditEntry>
  /** The cursor of the next (older) page, if any. */
  readonly next: string | null
}

interface AuditRow {
  readonly seq: number | string
  readonly at: string
  readonly actor_kind: string
  readonly actor_id: string
  readonly actor_name: string
  readonly via_kind: string | null
  readonly via_id: string | null
  readonly via_name: string | null
  readonly channel: string
  readonly operation: string
  readonly account_id: string | null
  readonly run_id: string | null
  readonly status_before: string | null
  readonly status_after: string | null
  readonly outcome: string
  readonly reason: string | null
  readonly request_id: string | null
}

const toEntry = (row: AuditRow): AuditEntry => ({
  seq: Number(row.seq),
  at: new Date(row.at),
  actor: { kind: row.actor_kind, id: row.actor_id, name: row.actor_name },
  via: row.via_kind === null || row.via_id === null ? null : { kind: row.via_kind, id: row.via_id, name: row.via_name ?? row.via_id },
  channel: row.channel,
  operation: row.operation,
  accountId: row.account_id,
  runId: row.run_id,
  statusBefore: row.status_before,
  statusAfter: row.status_after,
  outcome: row.outcome,
  reason: row.reason,
  requestId: row.request_id
})

/** One page of the audit trail, newest first. */
export const listAuditLog = (query: AuditQuery = {}) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const size = query.size ?? 10
    const conditions = [
      ...(query.accountId !== undefined ? [sql`account_id = ${query.accountId}`] : []),
      ...(query.actor !== undefined
        ? [sql`(actor_kind = ${query.actor} OR actor_id = ${query.actor} OR actor_name = ${query.actor} OR ${sql`actor_kind || ':' || actor_id`} = ${query.actor} OR via_id = ${query.actor} OR via_name = ${query.actor})`]
        : []),
      ...(query.since !== undefined ? [sql`at >= ${query.since.toISOString()}`] : []),
      ...(query.after !== undefined ? [sql`seq < ${Number(query.after)}`] : [])
    ]
    const rows = yield* sql<AuditRow>`SELECT * FROM audit_log ${conditions.length > 0 ? sql`WHERE ${sql.and(conditions)}` : sql``} ORDER BY seq DESC LIMIT ${size + 1}`
    const items = rows.slice(0, size).map(toEntry)
    return { items, next: rows.length > size ? String(items[items.length - 1]!.seq) : null } satisfies AuditPage
  }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(fromSqlError(e))))

/** The reason recorded with a run (runs keep their actor; the reason lives in the audit trail). */
export const runReason = (runId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(sql<{ reason: string | null }>`SELECT reason FROM audit_log WHERE run_id = ${runId} ORDER BY seq LIMIT 1`, (rows) => rows[0]?.reason ?? null)
  ).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(fromSqlError(e))))
