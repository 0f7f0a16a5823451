/**
 * `--help` of every command, through the built CLI: real descriptions, `acct …` usage lines,
 * shared options described once, and no ANSI escapes unless a terminal or FORCE_COLOR asks.
 */
import { describe, expect, it } from "vitest"
import { workspace } from "./cli.js"

const { acct } = workspace()
const PLACEHOLDERS = ["A user-defined piece of text.", "This setting is optional.", "A true or false value.", "An integer.", "This option can be set from environment variables."]
const ESC = "\u001b["

/** Every command path and its help, found by reading the "Commands:" section of each help, from the top. */
const allCommands = (): ReadonlyArray<readonly [ReadonlyArray<string>, ReturnType<typeof acct>]> => {
  const found: Array<readonly [ReadonlyArray<string>, ReturnType<typeof acct>]> = []
  const visit = (path: ReadonlyArray<string>) => {
    const result = acct([...path, "--help"], undefined, { NO_COLOR: "", FORCE_COLOR: "" })
    found.push([path, result])
    const help = result.stdout
    const section = /\nCommands:\n((?: {2}\S.*\n)+)/.exec(help)?.[1] ?? ""
    for (const line of section.trimEnd().split("\n").filter(Boolean)) visit([...path, line.trim().split(/\s+/)[0]!])
  }
  visit([])
  return found
}

describe("acct --help", () => {
  const commands = allCommands()

  it("reaches every command, nested ones included", () => {
    expect(commands.length).toBeGreaterThan(25)
    const paths = commands.map(([path]) => path.join(" "))
    expect(paths).toContain("accounts list")
    expect(paths).toContain("keys revoke")
  })

  it.each(commands.map(([path, result]) => [path.join(" ") || "(top level)", path, result] as const))("%s: described options, an acct usage line, no placeholders", (_, path, result) => {
    expect(result.code).toBe(0)
    const help = result.stdout
    for (const phrase of PLACEHOLDERS) expect(help).not.toContain(phrase)
    expect(help).not.toContain(ESC)
    expect(help.split("\n")[0]).toMatch(new RegExp(`^Usage: acct${path.map((p) => ` ${p}`).join("")}( |$)`))
    // Every option and argument line has a description after its name.
    for (const section of ["Options", "Arguments"]) {
      const body = new RegExp(`\\n${section}:\\n((?: {2}\\S.*\\n?)+)`).exec(help)?.[1] ?? ""
      for (const line of body.trimEnd().split("\n").filter(Boolean)) expect(line, `${path.join(" ")}: ${line}`).toMatch(/^ {2}\S+(?: \S+)?\s{2,}\S/)
    }
    if (path.length > 0) {
      // The shared options are named once per command, described only at the top level.
      expect(help).not.toMatch(/^ {2}--db /m)
      expect(help).not.toMatch(/^ {2}--json /m)
    }
  })

  it("describes the shared options once, at the top level", () => {
    const help = acct(["--help"]).stdout
    expect(help).toMatch(/^ {2}--db PATH\|URL\s+SQLite database file/m)
    expect(help).toMatch(/^ {2}--json\s+print JSON/m)
    expect(help).toContain("Exit codes:")
  })

  it("writes ANSI escapes only when FORCE_COLOR asks, never to a pipe or with NO_COLOR", () => {
    expect(acct(["--help"], undefined, { NO_COLOR: "", FORCE_COLOR: "" }).stdout).not.toContain(ESC)
    expect(acct(["--help"], undefined, { NO_COLOR: "1", FORCE_COLOR: "" }).stdout).not.toContain(ESC)
    expect(acct(["accounts", "lst"], undefined, { NO_COLOR: "", FORCE_COLOR: "" }).stderr).not.toContain(ESC)
    expect(acct(["--help"], undefined, { NO_COLOR: "", FORCE_COLOR: "1" }).stdout).toContain(ESC)
  })
})
