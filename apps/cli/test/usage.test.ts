/**
 * A malformed command line, through the built CLI: exit 2, JSON on stderr with --json, and a
 * message about the command the user meant (its subcommands, the nearest name, its usage).
 */
import { describe, expect, it } from "vitest"
import { workspace } from "./cli.js"

const { acct } = workspace()

describe("a malformed command line", () => {
  it.each([
    [["accounts", "get", "--json"], "missing argument <account>"],
    [["--bogus", "--json"], "unknown option '--bogus' for acct"],
    [["accounts", "list", "--size", "abc", "--json"], "'abc' is not an integer"],
    [["accounts", "lst", "--json"], "unknown command 'lst' for acct accounts; did you mean 'list'?"],
    [["accounts", "list", "--stats", "x", "--json"], "unknown option '--stats' for acct accounts list; did you mean '--status'?"],
    [["accounts", "list", "--json", "--size"], "option '--size' needs a value"],
    // Only the shared options, no command for them.
    [["--json"], "acct needs a command: 'init', 'accounts'"],
    [["accounts", "--json"], "acct accounts needs a command: 'list', 'search'"]
  ])("acct %j: a JSON error on stderr, exit 2", (args, message) => {
    const result = acct(args)
    expect(result.code).toBe(2)
    expect(result.stdout).toBe("")
    const error = JSON.parse(result.stderr).error
    expect(error).toMatchObject({ type: "InvalidRequest", issues: [] })
    expect(error.message).toContain(message)
  })

  it("a wrong subcommand lists that command's subcommands, suggests the nearest, and shows its usage", () => {
    const result = acct(["accounts", "lst"])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("acct: unknown command 'lst' for acct accounts; did you mean 'list'?")
    expect(result.stderr).toContain("acct accounts commands: 'list', 'search', 'get', 'create', 'update', 'redact', 'tag', 'untag', 'set-tags', 'consolidate'")
    expect(result.stderr).toContain("usage: acct accounts <command>")
    expect(result.stderr).not.toContain("'doctor'")
  })

  it("a missing argument names the command's usage", () => {
    const result = acct(["keys", "revoke"])
    expect(result.code).toBe(2)
    expect(result.stderr).toBe("acct: missing argument <key>\nusage: acct keys revoke [options] <key>  (more: acct keys revoke --help)\n")
  })

  it("a group without its subcommand prints its help", () => {
    const result = acct(["accounts"])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Usage: acct accounts <command>\n/)
  })
})
