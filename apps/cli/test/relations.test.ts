import { describe, expect, it } from "vitest"
import { workspace } from "./cli.js"

describe("acct accounts relations | relate | unrelate", () => {
  const { acct } = workspace()
  acct(["init", "--demo"])

  it("relates accounts, lists them by relation key, and unrelates", () => {
    const related = acct(["accounts", "relate", "abc-123", "household", "def-456"])
    expect(related.code, related.stderr).toBe(0)
    expect(related.stdout).toMatch(/^act_\w+ now relates to def-456 \(household\)\.\n$/)
    acct(["accounts", "relate", "abc-123", "referred_by", "ghi-789"])

    const text = acct(["accounts", "relations", "abc-123"])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain("household:")
    expect(text.stdout).toContain("def-456")
    expect(text.stdout).toContain("referred_by:")
    expect(text.stdout).toContain("ghi-789")

    const json = acct(["accounts", "relations", "abc-123", "--key", "household", "--json"]).json()
    expect(json.household.data.map((a: { referenceId: string }) => a.referenceId)).toEqual(["def-456"])

    expect(acct(["accounts", "unrelate", "abc-123", "household", "def-456"]).code).toBe(0)
    expect(acct(["accounts", "relations", "abc-123", "--key", "household", "--json"]).json().household.data).toEqual([])
  })

  it("says what is wrong, with the exit codes of its kind", () => {
    const unknown = acct(["accounts", "relate", "abc-123", "spouse", "def-456"])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('User accounts have the relations household, referred_by; got "spouse"')
    const twice = acct(["accounts", "relate", "abc-123", "referred_by", "def-456"])
    expect(twice.code).toBe(4)
    expect(twice.stderr).toContain("already points to")
    const absent = acct(["accounts", "unrelate", "abc-123", "household", "ghi-789"])
    expect(absent.code).toBe(3)
    expect(absent.stderr).toContain("has no relation household to")
  })
})
