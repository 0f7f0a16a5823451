/** `acct keys revoke` by name, id or prefix; a name shared by two live keys is refused. */
import { beforeAll, describe, expect, it } from "vitest"
import { workspace } from "./cli.js"

describe("acct keys revoke", () => {
  const { acct } = workspace()
  const create = (name: string) => acct(["keys", "create", "--name", name, "--scope", "account.read", "--json"]).json()
  const revokedAt = (id: string) => acct(["keys", "list", "--json"]).json().data.find((k: { id: string }) => k.id === id).revokedAt

  beforeAll(() => {
    expect(acct(["init"]).code).toBe(0)
  })

  it("revokes by name", () => {
    const key = create("billing-sync")
    const result = acct(["keys", "revoke", "billing-sync"])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`Revoked ${key.id} (billing-sync).\n`)
    expect(revokedAt(key.id)).not.toBeNull()
  })

  it("refuses a name shared by two live keys, listing them, and revokes neither", () => {
    const first = create("support-bot")
    const second = create("support-bot")
    const result = acct(["keys", "revoke", "support-bot"])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('2 keys are named "support-bot"; revoke one by its id:')
    expect(result.stderr).toContain(first.id)
    expect(result.stderr).toContain(second.id)
    expect(revokedAt(first.id)).toBeNull()
    expect(revokedAt(second.id)).toBeNull()
    // By id it works, and then the name is no longer ambiguous.
    expect(acct(["keys", "revoke", first.id]).code).toBe(0)
    expect(acct(["keys", "revoke", "support-bot", "--json"]).json().id).toBe(second.id)
  })

  it("still revokes by prefix, and says so when a key was already revoked", () => {
    const key = create("ci")
    expect(acct(["keys", "revoke", key.prefix, "--json"]).json().revokedAt).not.toBeNull()
    expect(acct(["keys", "revoke", "ci"]).stdout).toContain(`${key.id} (ci) was already revoked at`)
    expect(acct(["keys", "revoke", "no-such-key"]).code).toBe(3)
  })
})
