/**
 * The reason a run was given. Runs keep their actor; the reason lives in the audit trail, which
 * only a local database lets the CLI read. @effect/sql and the store are imported on use, so
 * start-up does not load them.
 */
import { Effect, Option } from "effect"

/** The run's reason (null: none was given), or undefined when the backend is not a local database. */
export const localRunReason = (runId: string): Effect.Effect<string | null | undefined> =>
  Effect.gen(function* () {
    const { SqlClient } = yield* Effect.promise(() => import("@effect/sql/SqlClient"))
    const sql = yield* Effect.serviceOption(SqlClient)
    if (Option.isNone(sql)) return undefined
    const { runReason } = yield* Effect.promise(() => import("@acct/store-sql"))
    return yield* runReason(runId).pipe(Effect.provideService(SqlClient, sql.value), Effect.orElseSucceed(() => undefined))
  })
