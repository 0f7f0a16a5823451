import { AcctApi, NotReady } from "@acct/api"
import { HttpApiBuilder } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const OpsLive = HttpApiBuilder.group(AcctApi, "ops", (handlers) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return handlers
      .handle("health", () => Effect.succeed({ status: "ok" as const }))
      .handle("ready", () =>
        sql`SELECT 1`.pipe(
          Effect.timeout("2 seconds"),
          Effect.as({ status: "ready" as const }),
          Effect.mapError(() => new NotReady({ status: "unavailable", reason: "the database does not answer" }))
        )
      )
  })
)
