import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { workspace } from "./cli.js"

describe("acct CLI (subprocess, real SQLite file)", () => {
  const { acct, dir, db } = workspace()
  let janeId = ""

  beforeAll(() => {
    const init = acct(["init", "--demo", "--json"])
    expect(init.code).toBe(0)
    expect(init.json()).toEqual({ database: db, accountTypes: 1, actions: 5, demoAccountsCreated: 6 })
    janeId = acct(["accounts", "get", "abc-123", "--json"]).json().id
  })

  const snapshot = () => acct(["accounts", "list", "--all", "--include-archived", "--json"]).stdout

  it("prints its version", () => {
    const result = acct(["--version"])
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it("lists accounts as a page in JSON, and as a table for people", () => {
    const page = acct(["accounts", "list", "--json"]).json()
    expect(Object.keys(page)).toEqual(["data", "next", "prev"])
    expect(page.data).toHaveLength(6)
    expect(page.data[0]).toMatchObject({ accountTypeName: "User", version: 1 })
    expect(Object.keys(page.data[0]).sort()).toEqual(
      ["accountTypeId", "accountTypeName", "consolidatedInto", "createdAt", "fields", "id", "redactedAt", "referenceId", "status", "tags", "updatedAt", "version"].sort()
    )
    const table = acct(["accounts", "list", "--tag", "tag1"])
    expect(table.stdout).toMatch(/^ID\s+REFERENCE\s+TYPE\s+STATUS\s+NAME\s+TAGS\n/)
    // `name` is personal data in the demo catalog: masked in tables (--json has it in full).
    expect(table.stdout).toContain("J••• M••• D•••")
    expect(table.stdout).not.toContain("Jane")
  })

  it("finds an account by id or by reference id", () => {
    const byRef = acct(["accounts", "get", "abc-123", "--json"]).json()
    const byId = acct(["accounts", "get", janeId, "--json"]).json()
    expect(byId).toEqual(byRef)
    expect(byRef.fields.email_address).toEqual({ type: "email-address", value: "jane@doe.com" })
  })

  it("shows one account to people with its personal fields masked, as the table and Slack do", () => {
    const shown = acct(["accounts", "get", "abc-123"])
    expect(shown.code).toBe(0)
    // Every field of the demo type is `pii`: masked by core's showField, never in full.
    expect(shown.stdout).toContain("email_address: j•••@doe.com")
    expect(shown.stdout).toContain("name: J••• M••• D•••")
    expect(shown.stdout).not.toContain("jane@doe.com")
    expect(shown.stdout).not.toContain("Jane")
    expect(shown.stdout).toContain("(personal data masked; --json shows every value)")
  })

  it("runs an action by name with typed parameters, recording the run", () => {
    const result = acct(["run", "Set status", "abc-123", "status=activated", "--json"])
    expect(result.code).toBe(0)
    const { account, run } = result.json()
    expect(account.status).toBe("activated")
    expect(run).toMatchObject({ actionName: "Set status", statusBefore: "deactivated", statusAfter: "activated", actor: { kind: "cli" } })
    expect(acct(["runs", "show", run.id, "--json"]).json().id).toBe(run.id)
    expect(acct(["runs", "list", "--account", "abc-123", "--json"]).json().data.map((r: { id: string }) => r.id)).toContain(run.id)
  })

  it("replays a command repeated with the same idempotency key", () => {
    const first = acct(["run", "Mark VIP", "ghi-789", "--idempotency-key", "ticket-1", "--json"]).json()
    const again = acct(["run", "Mark VIP", "ghi-789", "--idempotency-key", "ticket-1", "--json"]).json()
    expect(again.run.id).toBe(first.run.id)
    const reused = acct(["run", "Set status", "ghi-789", "status=pending", "--idempotency-key", "ticket-1"])
    expect(reused.code).toBe(2)
    expect(reused.stderr).toContain('idempotency key "ticket-1" was already used for a different request')
  })

  describe("bad input: a clear message, a meaningful exit code, nothing changed", () => {
    it.each([
      [["accounts", "get", "act_123"], 2, 'expected an account id ("act_" followed by 24–28 letters or digits) or a reference id, got "act_123"'],
      [["accounts", "get", "no-such-ref"], 3, 'no account with reference id "no-such-ref"'],
      [["run", "Launch rockets", "abc-123"], 3, 'account action "Launch rockets" not found'],
      [["run", "Set status", "abc-123", "status=sideways"], 2, 'parameters.status: expected one of pending, activated, deactivated, disabled; got "sideways"'],
      [["run", "Set status", "abc-123"], 2, "parameters.status: is required"],
      [["run", "Set status", "abc-123", "status"], 2, 'expected key=value, got "status"'],
      [["run", "Update contact", "abc-123", "email_address=nope"], 2, "parameters.email_address: expected an email address"],
      [["run", "Set status", "abc-123", "status=activated", "colour=red"], 2, "parameters.colour: unknown field"],
      [["activate", "ghi-789"], 4, "it is Disabled; activate applies to Enabled accounts"],
      [["accounts", "redact", "abc-123"], 2, "run again with --yes to confirm"],
      [["accounts", "create", "--type", "User", "birthdate=1990-02-31"], 2, "fields.birthdate: expected a date as YYYY-MM-DD"],
      [["accounts", "list", "--size", "0"], 2, "page size must be an integer from 1 to 100"],
      [["accounts", "tag", "abc-123", "bad,tag"], 2, "no commas"],
      [["types", "show", "Robot"], 3, 'account type "Robot" not found']
    ])("acct %j → exit %i", (args, code, message) => {
      const before = snapshot()
      const result = acct(args)
      expect(result.stderr).toContain(message)
      expect(result.code).toBe(code)
      expect(result.stderr).not.toMatch(/\bat .*\.(m?js|ts):\d+/) // no stack traces
      expect(snapshot()).toBe(before)
    })

    it("refuses a database directory that cannot be made, at once (Node's own mkdir -p would spin forever)", () => {
      symlinkSync(path.join(dir, "unmounted-volume"), path.join(dir, "data"))
      const dangling = acct(["init", "--db", path.join(dir, "data", "acct.db")])
      expect(dangling.code).toBe(6)
      expect(dangling.stderr).toContain(`cannot create the database directory for ${path.join(dir, "data", "acct.db")}: ${path.join(dir, "data")} is a symbolic link to ${path.join(dir, "unmounted-volume")}, which does not exist`)
      if (existsSync("/proc/self")) {
        const procfs = acct(["init", "--db", "/proc/acct-test/acct.db"])
        expect(procfs.code).toBe(6)
        expect(procfs.stderr).toContain("cannot create the database directory for /proc/acct-test/acct.db: ENOENT")
      }
      expect(acct(["init", "--db", path.join(dir, "a", "b", "acct.db"), "--json"]).code).toBe(0)
    })

    it.runIf(existsSync("/dev/zero"))("stops reading an endless input at its size limit instead of running out of memory", () => {
      const ids = acct(["bulk", "enable", "--ids", "/dev/zero"])
      expect(ids.code).toBe(2)
      expect(ids.stderr).toContain("--ids /dev/zero: larger than 64 MB; split the list into several runs")
      const catalog = acct(["init", "--catalog", "/dev/zero"])
      expect(catalog.code).toBe(2)
      expect(catalog.stderr).toContain("/dev/zero: cannot read the catalog file (larger than 8 MB)")
    })

    it("answers unknown commands and options with usage and exit 2", () => {
      expect(acct(["frobnicate"]).code).toBe(2)
      expect(acct(["accounts", "list", "--colour", "red"]).code).toBe(2)
    })

    it("reports errors as JSON on stderr with --json", () => {
      const result = acct(["accounts", "get", "nope", "--json"])
      expect(result.code).toBe(3)
      expect(JSON.parse(result.stderr)).toEqual({ error: { type: "NotFound", message: 'no account with reference id "nope"', issues: [] } })
    })

    it("refuses a malformed catalog file naming the file and path, loading nothing", () => {
      const file = path.join(dir, "broken.yaml")
      writeFileSync(file, "actions:\n  - name: Oops\n    accountType: User\n    steps:\n      - { type: set-status, status: { param: missing } }\n")
      const before = acct(["actions", "list", "--json"]).stdout
      const result = acct(["init", "--catalog", file])
      expect(result.code).toBe(2)
      expect(result.stderr).toContain(`${file}: invalid catalog: actions[0].steps[0]: refers to parameter "missing"`)
      expect(acct(["actions", "list", "--json"]).stdout).toBe(before)
      const unreadable = acct(["init", "--catalog", path.join(dir, "absent.yaml")])
      expect(unreadable.code).toBe(2)
      expect(unreadable.stderr).toContain("cannot read the catalog file (ENOENT)")
    })
  })

  it("creates, updates, tags and redacts", () => {
    const created = acct(["accounts", "create", "--type", "User", "--reference-id", "cli-1", "--tag", "beta", "name.first=Ada", "name.last=Lovelace", "--json"])
    expect(created.code).toBe(0)
    expect(created.json().fields.name.value.first).toEqual({ type: "string", value: "Ada" })
    const updated = acct(["accounts", "update", "cli-1", "phone_number=555-0100", "--json"]).json()
    expect(updated.fields.phone_number.value).toBe("555-0100")
    expect(acct(["accounts", "tag", "cli-1", "vip", "gold", "--json"]).json().tags).toEqual(["beta", "vip", "gold"])
    expect(acct(["accounts", "untag", "cli-1", "beta", "--json"]).json().tags).toEqual(["vip", "gold"])
    expect(acct(["accounts", "set-tags", "cli-1", "--json"]).json().tags).toEqual([])
    const stale = acct(["accounts", "tag", "cli-1", "x", "--expect-version", "1"])
    expect(stale.code).toBe(4)
    const redacted = acct(["accounts", "redact", "cli-1", "--yes", "--json"]).json()
    expect(redacted.redactedAt).not.toBeNull()
    expect(redacted.fields.name.value.first.value).toBeNull()
    expect(redacted.fields.phone_number.value).toBeNull()
  })

  it("consolidates duplicates into one account", () => {
    const dup = acct(["accounts", "create", "--type", "User", "--tag", "dup", "phone_number=777", "--json"]).json()
    const target = acct(["accounts", "create", "--type", "User", "--reference-id", "keeper", "--json"]).json()
    const merged = acct(["accounts", "consolidate", "keeper", dup.id, "--json"]).json()
    expect(merged.id).toBe(target.id)
    expect(merged.tags).toEqual(["dup"])
    expect(acct(["accounts", "get", dup.id, "--json"]).json().consolidatedInto).toBe(target.id)
  })

  it("bulk: runs over an id file, reports failures, exits 7, and a re-run repeats nothing", () => {
    const ids = path.join(dir, "ids.txt")
    const accounts = acct(["accounts", "list", "--status", "disabled", "--json"]).json().data as Array<{ id: string }>
    writeFileSync(ids, ["# accounts to enable", ...accounts.map((a) => a.id), "", "not an id!", accounts[0]!.id].join("\n"))
    const report = path.join(dir, "failures.jsonl")
    const first = acct(["bulk", "enable", "--ids", ids, "--report", report, "--json"])
    expect(first.code).toBe(7)
    expect(first.json()).toMatchObject({ operation: "enable", total: accounts.length + 1, succeeded: accounts.length, failed: 1, report })
    const failures = readFileSync(report, "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(failures).toEqual([{ account: "not an id!", error: "InvalidRequest", message: expect.stringContaining("expected an account id or a reference id") }])
    const runsBefore = acct(["runs", "list", "--size", "100", "--json"]).json().data.length
    const again = acct(["bulk", "enable", "--ids", "-", "--json"], accounts.map((a) => a.id).join("\n"))
    expect(again.code).toBe(0)
    expect(again.json()).toMatchObject({ succeeded: accounts.length, failed: 0 })
    expect(acct(["runs", "list", "--size", "100", "--json"]).json().data.length).toBe(runsBefore)
  })

  it("shows types and actions", () => {
    expect(acct(["types", "show", "User", "--json"]).json().lifecycle).toEqual({ active: "activated", enabled: "deactivated", disabled: "disabled" })
    const actions = acct(["actions", "list", "--json"]).json().data.map((a: { name: string }) => a.name)
    expect(actions).toContain("Set status")
    expect(acct(["actions", "show", "Set status"]).stdout).toContain("status:pending|activated|deactivated|disabled")
  })

  it("creates, lists and revokes API keys; the secret is shown once and never listed", () => {
    const created = acct(["keys", "create", "--name", "support-bot", "--scope", "account.read", "--scope", "account.action", "--json"])
    expect(created.code).toBe(0)
    const key = created.json()
    expect(key.secret).toMatch(/^acct_[A-Za-z0-9]{40}$/)
    expect(key.scopes).toEqual(["account.read", "account.action"])
    const listed = acct(["keys", "list", "--json"]).json().data
    expect(listed.some((k: { id: string }) => k.id === key.id)).toBe(true)
    expect(JSON.stringify(listed)).not.toContain(key.secret)
    expect(acct(["keys", "revoke", key.id, "--json"]).json().revokedAt).not.toBeNull()
    const bad = acct(["keys", "create", "--name", "x", "--scope", "everything"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("unknown scope everything")
    expect(acct(["keys", "revoke", "key_nope"]).code).toBe(3)
  })

  it("prints shell completions", () => {
    const result = acct(["--completions", "bash"])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("acct")
  })
})
