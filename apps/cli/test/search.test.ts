import { beforeAll, describe, expect, it } from "vitest"
import { workspace } from "./cli.js"

describe("acct accounts search", () => {
  const { acct } = workspace()
  beforeAll(() => {
    expect(acct(["init", "--demo"]).code).toBe(0)
  })

  it("compiles the readable syntax to a search and prints a table", () => {
    const found = acct(["accounts", "search", "status = disabled and (tags = vip or tags = legacy)"])
    expect(found.code, found.stderr).toBe(0)
    expect(found.stdout).toMatch(/^ID +REFERENCE +TYPE +STATUS/)
    expect(found.stdout).toContain("ghi-789")
    expect(found.stdout).toContain("abc-123-dup")
    expect(found.stdout.trim().split("\n")).toHaveLength(3)
    expect(acct(["accounts", "search", "fields.email_address = nobody@example.com"]).stdout.trim()).toBe("No accounts match.")
  })

  it("prints JSON, follows pages up to --limit and says how to go on", () => {
    const all = acct(["accounts", "search", "--json", "--limit", "100", "--sort", "created_at:asc"]).json()
    expect(all.data).toHaveLength(6)
    expect(all.next).toBeNull()
    expect(all.data[0].referenceId).toBe("abc-123")
    const two = acct(["accounts", "search", "--limit", "2", "not status = pending"])
    expect(two.stdout).toMatch(/More: acct accounts search --limit 2 --after act_\w+ 'not status = pending'/)
    const after = /--after (act_\w+)/.exec(two.stdout)![1]!
    const rest = acct(["accounts", "search", "--json", "--limit", "10", "--after", after, "not status = pending"]).json()
    expect(rest.data).toHaveLength(3)
  })

  it("points at the problem with a caret, exit 2", () => {
    const syntax = acct(["accounts", "search", "status = activated and fields.email a@b.c"])
    expect(syntax.code).toBe(2)
    expect(syntax.stderr).toContain('search, column 37: expected an operator (=, !=, <, <=, >, >=) after "fields.email", got "a@b.c"\n  status = activated and fields.email a@b.c\n                                      ^^^^^')
    const value = acct(["accounts", "search", "fields.birthdate >= 1990"])
    expect(value.code).toBe(2)
    expect(value.stderr).toContain("fields.birthdate: expected a date as YYYY-MM-DD, got 1990\n  fields.birthdate >= 1990\n                      ^^^^")
    expect(acct(["accounts", "search", "--sort", "created_at:up"]).stderr).toContain("--sort: expected ATTRIBUTE or ATTRIBUTE:asc / ATTRIBUTE:desc")
    expect(acct(["accounts", "search", "--limit", "0"]).stderr).toContain("--limit must be from 1 to 10000")
  })
})
