/**
 * The database's directory removed under a running service: SQLite kept writing into the
 * unlinked file, 278 changes were answered 2xx and /readyz stayed 200, and none existed after a
 * restart. Now writes are refused with a 503 that says why, and /readyz is not ready.
 */
import { chmodSync, rmSync } from "node:fs"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { startServer } from "./harness.js"

const servers: Array<{ close: () => Promise<void> }> = []
afterAll(() => Promise.all(servers.map((s) => s.close())))

describe("a database file that is gone or unwritable", () => {
  it("refuses writes with a clear 503 and reports not ready once the directory is removed", async () => {
    const server = await startServer()
    servers.push(server)
    const jane = (await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0].id as string
    expect((await server.call("GET", "/readyz", { key: null })).status).toBe(200)
    rmSync(path.dirname(server.database), { recursive: true, force: true })

    for (const [method, url, body] of [
      ["POST", `/api/v1/accounts/${jane}/add-tag`, { meta: { "tag-name": "lost" } }],
      ["PATCH", `/api/v1/accounts/${jane}`, { data: { attributes: { "reference-id": "lost-1" } } }],
      ["POST", `/v1/accounts/accounts/${jane}/disable`, undefined]
    ] as const) {
      const answer = await server.call(method, url, body === undefined ? {} : { body })
      expect(answer.status, `${method} ${url}: ${answer.text}`).toBe(503)
      expect(answer.text).toContain(`the database file ${server.database} was removed`)
    }
    const ready = await server.call("GET", "/readyz", { key: null })
    expect(ready.status).toBe(503)
    expect(ready.json.reason).toBe(`the database file ${server.database} was removed`)
  })

  it.runIf(process.getuid?.() !== 0)("refuses writes to a file made read-only", async () => {
    const server = await startServer()
    servers.push(server)
    const jane = (await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0].id as string
    chmodSync(server.database, 0o444)
    const answer = await server.call("POST", `/api/v1/accounts/${jane}/add-tag`, { body: { meta: { "tag-name": "ro" } } })
    expect(answer.status).toBe(503)
    expect(answer.text).toContain("is not writable")
  })
})
