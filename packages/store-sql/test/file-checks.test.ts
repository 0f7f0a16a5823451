/** sqliteFileChecks: what each check notices about the file a process opened (sqlite.ts). */
import { describe, expect, it } from "vitest"
import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { sqliteFileChecks } from "../src/sqlite.js"

const aFile = () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "acct-file-checks-")), "acct.db")
  writeFileSync(file, "")
  return file
}

describe("sqliteFileChecks", () => {
  it("finds nothing wrong with the file it opened", () => {
    const checks = sqliteFileChecks(aFile())
    expect([checks.beforeWrite(), checks.afterWrite(), checks.problem()]).toEqual([undefined, undefined, undefined])
  })

  it("a removed directory: every check says removed", () => {
    const file = aFile()
    const checks = sqliteFileChecks(file)
    rmSync(path.dirname(file), { recursive: true, force: true })
    for (const problem of [checks.beforeWrite(), checks.afterWrite(), checks.problem()]) expect(problem).toBe(`the database file ${file} was removed`)
  })

  it("a file replaced by another: the write may start (it lands in the old file), but is not acknowledged, and readiness says so", () => {
    const file = aFile()
    const checks = sqliteFileChecks(file)
    copyFileSync(file, `${file}.new`)
    renameSync(`${file}.new`, file)
    expect(checks.beforeWrite()).toBeUndefined()
    expect(checks.afterWrite()).toBe(`the database file ${file} was replaced by another file`)
    expect(checks.problem()).toBe(`the database file ${file} was replaced by another file`)
  })

  it("an in-memory database has no file to lose", () => {
    const checks = sqliteFileChecks(":memory:")
    expect([checks.beforeWrite(), checks.afterWrite(), checks.problem()]).toEqual([undefined, undefined, undefined])
  })
})
