/** `acct events list|show` on a local database: what each change said, filters, pages, errors. */
import { describe, expect, it } from "vitest"
import { workspace } from "./cli.js"

describe("acct events", () => {
  const { acct } = workspace()
  acct(["init", "--demo"])

  it("lists a change's events newest first, with what changed and who", () => {
    expect(acct(["accounts", "tag", "abc-123", "vip", "beta"]).code).toBe(0)
    expect(acct(["disable", "abc-123"]).code).toBe(0)
    const list = acct(["events", "list", "--account", "abc-123"])
    expect(list.code).toBe(0)
    const lines = list.stdout.split("\n")
    expect(lines[0]).toMatch(/^EVENT\s+NAME\s+OBJECT\s+CHANGE\s+ACTOR\s+AT/)
    expect(lines[1]).toMatch(/account\.status-updated .*deactivated → disabled/)
    expect(lines[2]).toMatch(/workflow-run\.created .*disable: deactivated → disabled/)
    expect(lines[3]).toMatch(/account\.updated-tags .*\+vip \+beta/)
    expect(list.stdout).toMatch(/account\.created .*system:acct/)
  })

  it("filters by name and time, pages with --after, and prints JSON for scripts", () => {
    const page = acct(["events", "list", "--name", "account.tag-added,account.tag-removed", "--size", "1", "--json"]).json()
    expect(page.data).toHaveLength(1)
    expect(page.data[0]).toMatchObject({ name: "account.tag-added", context: { tagName: "beta", channel: "cli" }, object: { _tag: "account" } })
    const next = acct(["events", "list", "--name", "account.tag-added", "--size", "1", "--after", page.next, "--json"]).json()
    expect(next.data[0].context.tagName).toBe("vip")
    expect(acct(["events", "list", "--since", "2999-01-01"]).stdout.trim()).toBe("No events match.")
    const text = acct(["events", "list", "--name", "account.tag-added", "--size", "1"]).stdout
    expect(text).toContain("More: acct events list --name account.tag-added --after evt_")
  })

  it("shows one event, and says what is wrong with a bad id or time", () => {
    const [latest] = acct(["events", "list", "--size", "1", "--json"]).json().data
    const shown = acct(["events", "show", latest.id])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(/name:\s+account\.status-updated/)
    expect(shown.stdout).toMatch(/what changed:\s+deactivated → disabled/)
    expect(shown.stdout).toMatch(/run:\s+wfr_/)
    expect(acct(["events", "show", latest.id, "--json"]).json()).toEqual(latest)
    const bad = acct(["events", "show", "evt_nope"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('expected an event id ("evt_" followed by 24–28 letters or digits')
    expect(acct(["events", "show", "evt_000000000000000000000000"]).code).toBe(3)
    expect(acct(["events", "list", "--since", "yesterday"]).stderr).toContain("--since: expected a date (2026-12-01) or a time")
  })

  it("teaches with its help", () => {
    const help = acct(["events", "list", "--help"]).stdout
    expect(help).toContain("acct events list --account abc-123")
    expect(help).toContain("--name")
    expect(acct(["events", "--help"]).stdout).toContain("show")
  })
})
