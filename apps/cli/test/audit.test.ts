/** `acct audit` and `acct runs show`: the audit trail, readable, through the built CLI. */
import { beforeAll, describe, expect, it } from "vitest"
import { workspace } from "./cli.js"

describe("acct audit", () => {
  const { acct } = workspace()
  let enableRun = ""

  beforeAll(() => {
    expect(acct(["init", "--demo"]).code).toBe(0)
    enableRun = acct(["enable", "ghi-789", "--reason", "ticket #4521", "--json"]).json().run.id
    expect(acct(["accounts", "tag", "ghi-789", "gold", "--reason", "loyalty"]).code).toBe(0)
    expect(acct(["accounts", "update", "ghi-789", "phone_number=555-0100"]).code).toBe(0)
    expect(acct(["activate", "ghi-789"]).code).toBe(4) // refused: already Active
    expect(acct(["accounts", "redact", "def-456", "--yes", "--reason", "GDPR #881"]).code).toBe(0)
  })

  it("lists every change and refusal, newest first, with actor, channel, reason and before/after status", () => {
    const entries = acct(["audit", "--size", "5", "--json"]).json().data
    expect(entries.map((e: { operation: string; outcome: string }) => [e.operation, e.outcome])).toEqual([
      ["redact", "ok"],
      ["activate", "refused:InvalidState"],
      ["update", "ok"],
      ["change-tags", "ok"],
      ["enable", "ok"]
    ])
    expect(entries[4]).toMatchObject({ actor: { kind: "cli" }, channel: "cli", reason: "ticket #4521", statusBefore: "disabled", statusAfter: "activated", runId: enableRun })
    const table = acct(["audit", "--size", "5"]).stdout
    expect(table).toMatch(/^AT\s+ACTOR\s+CHANNEL\s+OPERATION\s+ACCOUNT\s+CHANGE\s+OUTCOME\s+REASON\n/)
    expect(table).toContain("disabled → activated")
    expect(table).toContain("ticket #4521")
    expect(table).toContain("More: acct audit --after ")
  })

  it("filters by account, actor and time, and pages like accounts list", () => {
    const ghi = acct(["audit", "--account", "ghi-789", "--json"]).json().data.map((e: { operation: string }) => e.operation)
    // The refused activate names its account too, so the account's trail shows it.
    expect(ghi).toEqual(["activate", "update", "change-tags", "enable", "create"])
    expect(acct(["audit", "--account", "ghi-789", "--json"]).json().data[0]).toMatchObject({ outcome: "refused:InvalidState", accountId: expect.stringMatching(/^act_/) })
    expect(acct(["audit", "--actor", "system", "--json"]).json().data.every((e: { reason: string }) => e.reason === "demo data")).toBe(true)
    expect(acct(["audit", "--since", "2999-01-01"]).stdout).toBe("No audit entries match.\n")
    const first = acct(["audit", "--size", "2", "--json"]).json()
    const second = acct(["audit", "--size", "2", "--after", first.next, "--json"]).json()
    expect(second.data[0].seq).toBeLessThan(first.data[1].seq)
    expect(acct(["audit", "--since", "yesterday"]).code).toBe(2)
  })

  it("acct runs show prints the reason and the actor", () => {
    const shown = acct(["runs", "show", enableRun])
    expect(shown.stdout).toMatch(/^actor: +cli:/m)
    expect(shown.stdout).toMatch(/^reason: +ticket #4521$/m)
    expect(acct(["runs", "show", enableRun, "--json"]).json()).toMatchObject({ reason: "ticket #4521", actor: { kind: "cli" } })
  })
})
