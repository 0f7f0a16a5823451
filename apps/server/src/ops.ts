import { AcctApi, NotReady } from "@acct/api"
import { HttpApiBuilder } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { DatabaseFile } from "./database-file.js"
import { InFlight } from "./drain.js"

export const OpsLive = HttpApiBuilder.group(AcctApi, "ops", (handlers) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const state = yield* InFlight
    const file = yield* DatabaseFile
    return handlers
      .handle("health", () => Effect.succeed({ status: "ok" as const }))
      .handle("ready", () =>
        Effect.suspend(() => (state.phase !== "serving" ? Effect.fail(new NotReady({ status: "unavailable", reason: "shutting down" })) : Effect.void)).pipe(
          Effect.zipRight(sql`SELECT 1`),
          Effect.timeout("2 seconds"),
          Effect.zipRight(Effect.suspend(() => {
            const problem = file.problem()
            return problem === undefined ? Effect.void : Effect.fail(new NotReady({ status: "unavailable", reason: problem }))
          })),
          Effect.as({ status: "ready" as const }),
          Effect.mapError((e) => (e instanceof NotReady ? e : new NotReady({ status: "unavailable", reason: "the database does not answer" })))
        )
      )
  })
)
