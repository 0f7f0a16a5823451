import { spawnSync } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, workspace } from "./cli.js"

describe("acct import accounts FILE.csv", () => {
  const { acct, dir } = workspace()
  acct(["init", "--demo"])
  const file = (name: string, lines: ReadonlyArray<string>) => {
    writeFileSync(path.join(dir, name), `${lines.join("\n")}\n`)
    return name
  }

  it("imports, says what it did per kind of row, names refused rows, and exits 7 when some were refused", () => {
    const people = file("people.csv", ["reference_id,name_first,name_last,birthdate,tags", "p-1,Ada,Lovelace,1815-12-10,vip", "p-2,Alan,Turing,1912-13-23,", "abc-123,Jane,Doe,,", "p-3,Grace,Hopper,,\"navy,cobol\""])
    const result = acct(["import", "accounts", people])
    expect(result.code, result.stderr).toBe(7)
    expect(result.stderr).toBe("") // no progress bar without a terminal
    expect(result.stdout).toMatch(/^people\.csv: 2 created, 1 already there \(duplicates, unchanged\), 1 refused, of 4 rows, in [\d.]+s/)
    expect(result.stdout).toContain("  row 3, birthdate: expected a date as YYYY-MM-DD")
    expect(acct(["accounts", "get", "p-3", "--json"]).json().tags).toEqual(["navy", "cobol"])

    const again = acct(["import", "accounts", people, "--json"])
    expect(again.code).toBe(7)
    expect(again.json()).toMatchObject({ status: "ready", rows: 4, created: 0, duplicates: 3, refused: 1, errors: [{ row: 3, column: "birthdate", problem: "expected a date as YYYY-MM-DD" }] })
  })

  // util-linux `script` gives the command a terminal, as a person running it has.
  it.runIf(existsSync("/usr/bin/script"))("draws a progress bar on a terminal", () => {
    const rows = Array.from({ length: 1200 }, (_, i) => `tty-${i},Row${i}`)
    const csv = file("tty.csv", ["reference_id,name_first", ...rows])
    const run = spawnSync("/usr/bin/script", ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} import accounts ${csv}`, "/dev/null"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, ACCT_DATABASE: path.join(dir, "acct.db"), NO_COLOR: "1" },
      timeout: 30_000
    })
    expect(run.stdout).toContain("\r[########################] 1200/1200  failed 0")
    expect(run.stdout).toContain("tty.csv: 1200 created, 0 already there (duplicates, unchanged), 0 refused, of 1200 rows")
  })

  it("refuses a file it cannot import before anything happens", () => {
    const bad = acct(["import", "accounts", file("bad.csv", ["reference_id,colour", "x,blue"])])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe('acct: bad.csv: line 1: unknown column "colour"; the columns are reference_id, name_first, name_middle, name_last, birthdate, social_security_number, tags\n')
    expect(acct(["import", "accounts", "missing.csv"]).stderr).toContain("missing.csv: cannot read (ENOENT)")
    expect(acct(["import", "accounts", file("ok.csv", ["reference_id", "fine-1"]), "--type", "Robot"]).code).toBe(3)
  })
})
