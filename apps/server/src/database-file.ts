/**
 * The database the service writes to must still be there. On SQLite a removed directory or a
 * replaced or unwritable file does not make writes fail (SQLite keeps writing into the unlinked
 * file), so 278 changes were once acknowledged and lost. Writes are refused with a 503 while the
 * file is not right, a write that lost its file while it ran is answered 503 instead of 2xx, and
 * /readyz reports not ready. On Postgres there is no file: nothing to check.
 */
import { isPostgresUrl, sqliteFileChecks } from "@acct/store-sql"
import { HttpServerRequest, type HttpServerResponse } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer } from "effect"
import { refusal } from "./error-body.js"

const NO_FILE = { beforeWrite: () => undefined, afterWrite: () => undefined, problem: () => undefined }

/** The checks of sqliteFileChecks (store-sql), for the file this process opened. */
export class DatabaseFile extends Context.Tag("@acct/server/DatabaseFile")<DatabaseFile, ReturnType<typeof sqliteFileChecks>>() {
  /** Built after the store (it needs the SqlClient), so the file it remembers is the one opened. */
  static layer = (database: string) =>
    Layer.effect(
      DatabaseFile,
      Effect.map(SqlClient.SqlClient, () => (isPostgresUrl(database) ? NO_FILE : sqliteFileChecks(database)))
    )
}

const WRITES = new Set(["POST", "PATCH", "PUT", "DELETE"])

export const durableWrites =
  (file: DatabaseFile["Type"]) =>
  <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest> =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      if (!WRITES.has(request.method)) return app
      const refuse = (problem: string) => refusal(request, 503, "Service unavailable", `${problem}; changes are refused until the service is restarted on a sound database`)
      const before = file.beforeWrite()
      if (before !== undefined) return refuse(before)
      return Effect.flatMap(app, (response) => {
        if (response.status >= 300) return Effect.succeed(response)
        const after = file.afterWrite()
        return after === undefined ? Effect.succeed(response) : refuse(after)
      })
    })
