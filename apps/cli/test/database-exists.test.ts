/**
 * Only `acct init` creates a database: every other command on a path without one says so and
 * how to make one, exit 2, and leaves nothing behind. A missing Postgres database is a setting
 * to fix (exit 2), not an outage (6).
 */
import { existsSync, readdirSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { workspace } from "./cli.js"

describe("a path with no acct database", () => {
  const { acct, dir } = workspace()

  it.each([
    [["keys", "list"]],
    [["accounts", "list"]],
    [["runs", "list", "--json"]],
    [["run", "Set status", "abc-123", "status=activated"]],
    [["keys", "create", "--name", "x", "--scope", "account.read"]]
  ])("acct %j (default ./.acct/acct.db): exit 2, says how to create one, creates nothing", (args) => {
    const result = acct(args, undefined, { ACCT_DATABASE: undefined })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("there is no acct database at .acct/acct.db; create one with `acct init --db .acct/acct.db`")
    expect(readdirSync(dir)).toEqual([])
  })

  it("--db to a missing file in a missing folder: the same, as JSON with --json", () => {
    const db = path.join(dir, "typo", "acct.db")
    const result = acct(["accounts", "get", "abc-123", "--db", db, "--json"])
    expect(result.code).toBe(2)
    expect(JSON.parse(result.stderr).error).toMatchObject({ type: "InvalidRequest", message: expect.stringContaining(`there is no acct database at ${db}`) })
    expect(existsSync(path.join(dir, "typo"))).toBe(false)
  })

  it("init creates it; then the other commands use it", () => {
    const db = path.join(dir, "made", "acct.db")
    expect(acct(["init", "--db", db]).code).toBe(0)
    const keys = acct(["keys", "list", "--db", db])
    expect(keys.code).toBe(0)
    expect(keys.stdout).toContain("No API keys.")
  })

  it("a Postgres database that does not exist: exit 2 with a hint, for every command", () => {
    const url = "postgres://postgres@127.0.0.1:5432/acct_no_such_database"
    for (const args of [["accounts", "list"], ["init"]]) {
      const result = acct([...args, "--db", url])
      expect(result.stderr).toContain(`the Postgres database at ${url} does not exist; create it (createdb acct_no_such_database`)
      expect(result.code).toBe(2)
    }
  })
})
