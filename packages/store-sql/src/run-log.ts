/**
 * What happened to accounts: action runs (`wfr_…`, with the events their steps emitted), and the
 * audit trail (who, through which app, what, the outcome, the reason). The events themselves
 * are written by the mutation frame (event-log.ts).
 */
import { type AccountId, actingActors, type ActionRun, type ActionRunId, type AccountsError, type Invocation, NotFound, type Page, type PageQuery } from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import { Effect } from "effect"
import { inTransaction } from "./statements.js"
import { paginate } from "./pages.js"
import { type RunRow, toRun } from "./rows.js"

export interface AuditEntry {
  readonly operation: string
  readonly accountId: string | null
  readonly runId?: string | null
  readonly before?: string | null
  readonly after?: string | null
  /** `ok`, or `refused:<error tag>`. */
  readonly outcome: string
}

export class RunLog extends Effect.Service<RunLog>()("@acct/store-sql/RunLog", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const writeAudit = (invocation: Invocation, entry: AuditEntry, at: Date) => {
      const { actor, via } = actingActors(invocation)
      return inTransaction(sql`INSERT INTO audit_log ${sql.insert({
        at: at.toISOString(),
        actor_kind: actor.kind,
        actor_id: actor.id,
        actor_name: actor.name,
        via_kind: via?.kind ?? null,
        via_id: via?.id ?? null,
        via_name: via?.name ?? null,
        channel: invocation.channel,
        operation: entry.operation,
        account_id: entry.accountId,
        run_id: entry.runId ?? null,
        status_before: entry.before ?? null,
        status_after: entry.after ?? null,
        outcome: entry.outcome,
        reason: invocation.reason ?? null,
        request_id: invocation.requestId ?? null
      })}`)
    }

    const writeRun = (run: ActionRun) =>
      Effect.gen(function* () {
        yield* inTransaction(sql`INSERT INTO action_runs ${sql.insert({
          id: run.id,
          account_id: run.accountId,
          action_id: run.actionId,
          action_name: run.actionName,
          status: run.status,
          actor: JSON.stringify(run.actor),
          via: run.via === null ? null : JSON.stringify(run.via),
          parameters: JSON.stringify(run.parameters),
          status_before: run.statusBefore,
          status_after: run.statusAfter,
          events: JSON.stringify(run.events),
          error: run.error,
          idempotency_key: run.idempotencyKey,
          started_at: run.startedAt.toISOString(),
          finished_at: run.finishedAt.toISOString()
        })}`)
      })

    const listRuns = (query: PageQuery, accountId: AccountId | undefined): Effect.Effect<Page<ActionRun>, AccountsError | SqlError> =>
      Effect.map(
        paginate<RunRow>(
          query,
          (id) => sql`SELECT seq FROM action_runs WHERE id = ${id}`,
          (cursor, order, limit) => {
            const conditions: Array<Fragment> = [
              ...(accountId ? [sql`account_id = ${accountId}`] : []),
              ...(cursor ? [sql`seq ${sql.literal(cursor.op)} ${cursor.seq}`] : [])
            ]
            return sql<RunRow>`SELECT * FROM action_runs WHERE ${conditions.length > 0 ? sql.and(conditions) : sql.literal("1=1")} ORDER BY seq ${sql.literal(order)} LIMIT ${limit}`
          }
        ),
        (page) => ({ items: page.rows.map(toRun), next: page.next, prev: page.prev })
      )

    const getRun = (id: ActionRunId) =>
      Effect.flatMap(sql<RunRow>`SELECT * FROM action_runs WHERE id = ${id}`, (rows) => (rows[0] ? Effect.succeed(toRun(rows[0])) : Effect.fail(NotFound.of("workflow run", id))))

    return { writeAudit, writeRun, listRuns, getRun } as const
  })
}) {}
