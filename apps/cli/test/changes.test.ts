/** The store's change guarantees as a CLI user meets them (subprocess, real SQLite file). */
import { beforeAll, describe, expect, it } from "vitest"
import { workspace } from "./cli.js"

// Several subprocesses per test: a generous bound, as the machine may be busy.
describe("acct accounts changes", () => {
  const { acct } = workspace()
  beforeAll(() => {
    expect(acct(["init", "--demo", "--json"]).code).toBe(0)
  })

  it("update changes only what it names (the README's example keeps street_1 etc.)", () => {
    const before = acct(["accounts", "get", "abc-123", "--json"]).json()
    const result = acct(["accounts", "update", "abc-123", "phone_number=555-0100", "address.city=Oakland", "--json"])
    expect(result.code).toBe(0)
    const after = result.json()
    expect(after.fields.phone_number.value).toBe("555-0100")
    expect(after.fields.address.value).toEqual({ ...before.fields.address.value, city: { type: "string", value: "Oakland" } })
    expect(after.fields.address.value.street_1.value).not.toBeNull()
    expect(after.fields.name).toEqual(before.fields.name)
  }, 30_000)

  it("tag with several tags is one version step; a stale --expect-version applies none of them", () => {
    const created = acct(["accounts", "create", "--type", "User", "--reference-id", "tags-1", "--json"]).json()
    expect(created.version).toBe(1)
    const tagged = acct(["accounts", "tag", "tags-1", "a", "b", "--json"])
    expect(tagged.code).toBe(0)
    expect(tagged.json()).toMatchObject({ tags: ["a", "b"], version: 2 })
    const stale = acct(["accounts", "tag", "tags-1", "c", "d", "--expect-version", "1"])
    expect(stale.code).toBe(4)
    const untagged = acct(["accounts", "untag", "tags-1", "a", "b", "--json"]).json()
    expect(untagged).toMatchObject({ tags: [], version: 3 })
  }, 30_000)
})
