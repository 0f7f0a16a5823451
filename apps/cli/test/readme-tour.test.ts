/**
 * Every line of the README's "CLI tour", in order, on a fresh `acct init --demo` database:
 * exit 0 and something to see (not "No accounts match.").
 */
import { readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { workspace } from "./cli.js"

const README = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")

/** The commands of the tour's sh block: comments dropped, single quotes honoured. */
const tourLines = (): ReadonlyArray<string> => {
  const block = /## CLI tour\n\n```sh\n([\s\S]*?)```/.exec(README)?.[1]
  if (!block) throw new Error("README has no CLI tour block")
  return block
    .split("\n")
    .map((line) => line.replace(/\s{2,}#.*$/, "").trim())
    .filter((line) => line.startsWith("acct "))
}

const words = (line: string) => [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!)

describe("the README's CLI tour", () => {
  const { acct, dir } = workspace()
  // The tour's bulk example reads this file: accounts to disable, one per line.
  writeFileSync(path.join(dir, "churned.txt"), "# churned this quarter\ndef-456\n")
  // …and the import example this one: the CSV of the README's Import section.
  writeFileSync(path.join(dir, "people.csv"), `${/```csv\n([\s\S]*?)```/.exec(README)![1]}`)
  const lines = tourLines()

  it("has the examples it promises", () => {
    expect(lines[0]).toBe("acct init --demo")
    expect(lines).toContain("acct accounts list --status disabled --tag vip")
    expect(lines.length).toBeGreaterThan(12)
  })

  it.each(lines.map((line) => [line]))("%s", (line) => {
    const args = words(line).slice(1)
    // A run id is the one placeholder: take the newest run.
    const runId = () => acct(["runs", "list", "--size", "1", "--json"]).json().data[0].id as string
    const result = acct(args.map((a) => (a === "wfr_…" ? runId() : a)))
    expect(result.stderr).toBe("")
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).not.toBe("")
    expect(result.stdout).not.toMatch(/^No (accounts match|runs|actions|API keys|audit entries)/m)
  })
})
