/**
 * `--help` of every command, through the built CLI: real descriptions, `acct …` usage lines,
 * shared options described once, and no ANSI escapes unless a terminal or FORCE_COLOR asks.
 */
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { beforeAll, describe, expect, it } from "vitest"
import { BIN, workspace } from "./cli.js"

const { acct } = workspace()
const PLACEHOLDERS = ["A user-defined piece of text.", "This setting is optional.", "A true or false value.", "An integer.", "This option can be set from environment variables."]
const ESC = "\u001b["
const run = promisify(execFile)

/** `acct … --help`, without blocking the test worker (dozens of commands on a loaded machine). */
const help = async (path: ReadonlyArray<string>) => {
  const { stdout } = await run(process.execPath, [BIN, ...path, "--help"], { env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "" }, timeout: 30_000 })
  return stdout
}

/** Every command path and its help, found by reading the "Commands:" section of each help, from the top. */
const allHelp = async (): Promise<ReadonlyArray<readonly [ReadonlyArray<string>, string]>> => {
  const found: Array<readonly [ReadonlyArray<string>, string]> = []
  const visit = async (path: ReadonlyArray<string>): Promise<void> => {
    const text = await help(path)
    found.push([path, text])
    const section = /\nCommands:\n((?: {2}\S.*\n)+)/.exec(text)?.[1] ?? ""
    const children = section.trimEnd().split("\n").filter(Boolean).map((line) => [...path, line.trim().split(/\s+/)[0]!])
    await Promise.all(children.map(visit))
  }
  await visit([])
  return found
}

describe("acct --help", () => {
  let helps: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = []
  beforeAll(async () => {
    helps = await allHelp()
  })

  it("reaches every command, nested ones included", () => {
    const paths = helps.map(([path]) => path.join(" "))
    expect(paths.length).toBeGreaterThan(25)
    expect(paths).toContain("accounts list")
    expect(paths).toContain("keys revoke")
  })

  it("every command: described options, an acct usage line, no placeholders, no escapes in a pipe", () => {
    for (const [path, help] of helps) {
      const name = path.join(" ") || "(top level)"
      for (const phrase of PLACEHOLDERS) expect(help, name).not.toContain(phrase)
      expect(help, name).not.toContain(ESC)
      expect(help.split("\n")[0], name).toMatch(new RegExp(`^Usage: acct${path.map((p) => ` ${p}`).join("")}( |$)`))
      // Every option and argument line has a description after its name.
      for (const section of ["Options", "Arguments"]) {
        const body = new RegExp(`\\n${section}:\\n((?: {2}\\S.*\\n?)+)`).exec(help)?.[1] ?? ""
        for (const line of body.trimEnd().split("\n").filter(Boolean)) expect(line, `${name}: ${line}`).toMatch(/^ {2}\S+(?: \S+)?\s{2,}\S/)
      }
      if (path.length > 0) {
        // The shared options are named once per command, described only at the top level.
        expect(help, name).not.toMatch(/^ {2}--db /m)
        expect(help, name).not.toMatch(/^ {2}--json /m)
      }
    }
  })

  it("lists each subcommand with a whole first sentence: brackets and quotes closed, ending with a full stop", () => {
    for (const [path, help] of helps) {
      const section = /\nCommands:\n((?: {2}\S.*\n)+)/.exec(help)?.[1] ?? ""
      for (const line of section.trimEnd().split("\n").filter(Boolean)) {
        const summary = line.trim().replace(/^\S+\s+/, "")
        const where = `${path.join(" ") || "(top level)"}: ${line.trim()}`
        expect(summary.split("(").length, where).toBe(summary.split(")").length)
        expect(summary.split("`").length % 2, where).toBe(1)
        expect(summary, where).toMatch(/\.$/)
      }
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
