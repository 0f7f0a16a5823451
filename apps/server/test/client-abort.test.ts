/**
 * A caller that hangs up while its request waits on the database must not leave the request
 * "in flight" for good (it would hold a graceful shutdown for its whole grace period). Postgres
 * makes the wait real: a row lock held by another connection.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { InFlight } from "../src/drain.js"
import { startServer } from "./harness.js"
import { freshDatabase, onDatabase, postgresReachable } from "./postgres.js"

const until = async (check: () => Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}

describe.runIf(postgresReachable)("a caller hanging up mid-request (Postgres)", () => {
  it("ends the request once its work is done, and the change it made stays made", async () => {
    const database = await freshDatabase("acct_abort")
    const server = await startServer({ database: database.url })
    try {
      const jane = (await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0].id as string
      const inFlight = () => server.runtime.runPromise(Effect.map(InFlight, ({ count }) => count))

      // Another connection holds Jane's row for a second, so the add-tags below wait on it.
      const holder = onDatabase(database.url, (sql) =>
        sql.withTransaction(Effect.zipRight(sql`SELECT id FROM accounts WHERE id = ${jane} FOR UPDATE`, Effect.sleep("1 second")))
      )
      await new Promise((resolve) => setTimeout(resolve, 200))
      const callers = Array.from({ length: 8 }, (_, i) => {
        const abort = new AbortController()
        setTimeout(() => abort.abort(), 300)
        return fetch(`${server.base}/api/v1/accounts/${jane}/add-tag`, {
          method: "POST",
          headers: { authorization: `Bearer ${server.admin}`, "content-type": "application/json" },
          body: JSON.stringify({ meta: { "tag-name": `hung-up-${i}` } }),
          signal: abort.signal
        }).then(() => "answered", () => "hung up")
      })
      expect(await Promise.all(callers)).toEqual(Array(8).fill("hung up"))
      await holder

      expect(await until(async () => (await inFlight()) === 0, 5_000)).toBe(true)
      // The service still answers, and whatever each request did is all or nothing.
      const account = await server.call("GET", `/api/v1/accounts/${jane}`)
      expect(account.status).toBe(200)
      const tags = account.json.data.attributes.tags as Array<string>
      const audited = await onDatabase(database.url, (sql) => sql<{ n: string }>`SELECT count(*) AS n FROM audit_log WHERE account_id = ${jane} AND operation = 'add-tag' AND outcome = 'ok'`)
      expect(Number(audited[0]!.n)).toBe(tags.filter((t) => t.startsWith("hung-up-")).length)
    } finally {
      await server.close()
      await database.drop()
    }
  }, 30_000)
})
