/**
 * `acct bulk`: the failure report goes beside the database (or to --report), never into the
 * current folder; the summary tells newly done, replayed and failed apart; a re-run with another
 * reason says the replayed accounts keep their first reason.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { workspace } from "./cli.js"

describe("acct bulk reports and summaries", () => {
  const { acct, dir } = workspace()
  const dataDir = path.join(dir, "data")
  const db = path.join(dataDir, "acct.db")
  const run = (args: ReadonlyArray<string>, input?: string) => acct([...args, "--db", db], input)

  beforeAll(() => {
    mkdirSync(dataDir)
    expect(run(["init", "--demo"]).code).toBe(0)
  })

  it("writes the failure report under reports/ beside the database, not into the current folder", () => {
    const result = run(["bulk", "disable", "--ids", "-", "--json"], "def-456\nno-such-account\n")
    expect(result.code).toBe(7)
    const summary = result.json()
    expect(summary).toMatchObject({ total: 2, done: 1, replayed: 0, failed: 1 })
    expect(path.dirname(summary.report)).toBe(path.join(dataDir, "reports"))
    expect(readFileSync(summary.report, "utf8")).toContain("no-such-account")
    // The current folder (the workspace) holds only the data folder.
    expect(readdirSync(dir)).toEqual(["data"])
  })

  it("never writes over another run's report, even one started in the same second", () => {
    const reports = path.join(dataDir, "reports")
    mkdirSync(reports, { recursive: true })
    // The reports of earlier runs under every name this run could pick for its start second.
    const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")
    const earlier = Array.from({ length: 120 }, (_, i) => path.join(reports, `bulk-${stamp(Date.now() + (i - 1) * 1000)}.failures.jsonl`))
    for (const file of earlier) writeFileSync(file, "an earlier run\n")
    const summary = run(["bulk", "disable", "--ids", "-", "--json"], "still-no-such-account\n").json()
    expect(earlier).not.toContain(summary.report)
    expect(path.dirname(summary.report)).toBe(reports)
    expect(readFileSync(summary.report, "utf8")).toContain("still-no-such-account")
    for (const file of earlier) expect(readFileSync(file, "utf8")).toBe("an earlier run\n")
  })

  it("--report PATH puts it there", () => {
    const report = path.join(dir, "mine.jsonl")
    expect(run(["bulk", "disable", "--ids", "-", "--report", report, "--json"], "nope-1\n").json().report).toBe(report)
    expect(existsSync(report)).toBe(true)
  })

  it("separates newly done, already done (replayed) and failed; a different reason is reported as not applied to the replayed", () => {
    const ids = path.join(dir, "ids.txt")
    writeFileSync(ids, "abc-123\n")
    expect(run(["bulk", "Set status", "--ids", ids, "status=pending", "--reason", "first pass"]).code).toBe(0)
    writeFileSync(ids, "abc-123\nabc-123-dup\nnot an id!\n")
    const again = run(["bulk", "Set status", "--ids", ids, "status=pending", "--reason", "second pass"])
    expect(again.code).toBe(7)
    expect(again.stdout).toContain("Set status: 1 done, 1 already done (replayed), 1 failed, of 3")
    expect(again.stdout).toContain('1 account(s) were already done by an earlier run of this batch and were replayed, not repeated: their first reason stands (1 differ from "second pass")')
    const json = run(["bulk", "Set status", "--ids", ids, "status=pending", "--reason", "second pass", "--json"]).json()
    expect(json).toMatchObject({ total: 3, done: 0, replayed: 2, failed: 1, succeeded: 2 })
  })
})
