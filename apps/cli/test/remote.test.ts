import { describe, expect, it } from "vitest"
import { serveDuringTests, workspace } from "./cli.js"
const KEY = "acct_remote_test_key_0123456789abcdef"

describe("acct CLI --remote (a real acct server as a subprocess)", () => {
  const { acct, db } = workspace()
  const server = serveDuringTests({ ACCT_DATABASE: db, ACCT_BOOTSTRAP_KEY: KEY })
  const remote = (args: ReadonlyArray<string>, input?: string, key = KEY) => acct(args, input, { ACCT_URL: server.url(), ACCT_API_KEY: key })

  const withoutVersion = (account: Record<string, unknown>) => ({ ...account, version: undefined })

  it("answers like the local database it serves", () => {
    const local = acct(["accounts", "get", "abc-123", "--json"]).json()
    const viaServer = remote(["accounts", "get", "abc-123", "--json"]).json()
    expect(withoutVersion(viaServer)).toEqual(withoutVersion(local))
    expect(remote(["accounts", "list", "--json"]).json().data.map((a: { id: string }) => a.id)).toEqual(acct(["accounts", "list", "--json"]).json().data.map((a: { id: string }) => a.id))
    const remoteType = remote(["types", "show", "User", "--json"]).json()
    const localType = acct(["types", "show", "User", "--json"]).json()
    expect(remoteType.lifecycle).toEqual(localType.lifecycle)
    expect(remoteType.description).toBe(localType.description)
    expect(remoteType.description).not.toBe("")
  })

  it("masks personal data as the local database does: the catalog's pii flags travel with the type", () => {
    const fieldsOf = (text: string) => text.slice(text.indexOf("fields:"))
    const local = acct(["accounts", "get", "def-456"]).stdout
    const viaServer = remote(["accounts", "get", "def-456"]).stdout
    expect(fieldsOf(viaServer)).toEqual(fieldsOf(local))
    expect(viaServer).toContain("name: J••• S•••")
    expect(viaServer).not.toContain("John")
    expect(remote(["accounts", "list", "--reference-id", "def-456"]).stdout).toEqual(acct(["accounts", "list", "--reference-id", "def-456"]).stdout)
  })

  it("searches through the server like the local database, errors with a caret included", () => {
    const args = ["accounts", "search", "--json", "--sort", "fields.name.last:asc", "--limit", "3", "tags = vip or fields.email_address = jane@doe.com"]
    const viaServer = remote(args).json()
    expect(viaServer.data.map((a: { referenceId: string }) => a.referenceId)).toEqual(["ghi-789", "abc-123", "def-456"])
    expect(viaServer.data.map((a: { id: string }) => a.id)).toEqual(acct(args).json().data.map((a: { id: string }) => a.id))
    const refused = remote(["accounts", "search", "status = activated and fields.phone_number = 1"])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("search, column 24: \"fields.phone_number\" is not a searchable field")
    expect(refused.stderr).toContain(`\n  status = activated and fields.phone_number = 1\n  ${" ".repeat(23)}${"^".repeat(19)}`)
  })

  it("keeps the reason through the server: the server's audit entry has it, as a local change would", () => {
    const reason = "ticket #4521 — customer asked (ünïcode kept)"
    const { run } = remote(["run", "Set status", "abc-123", "status=deactivated", "--reason", reason, "--json"]).json()
    const entry = acct(["audit", "--json", "--size", "100"]).json().data.find((e: { runId: string | null }) => e.runId === run.id)
    expect(entry).toMatchObject({ channel: "http", reason, actor: { kind: "api-key" } })
  })

  it("runs actions and lifecycle operations, recorded as the key's actor", () => {
    const { account, run } = remote(["run", "Set status", "abc-123", "status=activated", "--json"]).json()
    expect(account.status).toBe("activated")
    expect(acct(["runs", "show", run.id, "--json"]).json().actor).toMatchObject({ kind: "api-key", name: "bootstrap admin" })
    expect(remote(["enable", "ghi-789", "--json"]).json().account.status).toBe("activated")
  })

  it("lists and shows events through the server as from the local database", () => {
    remote(["accounts", "tag", "abc-123", "remote-evt"])
    const summary = (e: { id: string; name: string; context: unknown; object: { _tag: string; value: { id: string } } }) => [e.id, e.name, e.object._tag, e.object.value.id, e.context]
    const local = acct(["events", "list", "--account", "abc-123", "--json", "--size", "5"]).json()
    const viaServer = remote(["events", "list", "--account", "abc-123", "--json", "--size", "5"]).json()
    expect(viaServer.data.map(summary)).toEqual(local.data.map(summary))
    expect(viaServer.next).toBe(local.next)
    expect(viaServer.data[0]).toMatchObject({ name: "account.updated-tags", context: { addedTags: ["remote-evt"], channel: "http", actor: { kind: "api-key" } } })
    expect(summary(remote(["events", "show", local.data[1].id, "--json"]).json())).toEqual(summary(local.data[1]))
    const named = remote(["events", "list", "--name", "account.tag-added", "--since", "2000-01-01", "--json"]).json()
    expect(named.data.length).toBeGreaterThan(0)
    expect(named.data.every((e: { name: string }) => e.name === "account.tag-added")).toBe(true)
    expect(remote(["events", "show", "evt_000000000000000000000000"]).code).toBe(3)
  })

  it("keeps exit codes and messages", () => {
    expect(remote(["accounts", "get", "nobody"]).code).toBe(3)
    const invalid = remote(["activate", "ghi-789"])
    expect(invalid.code).toBe(4)
    expect(invalid.stderr).toMatch(/it is Active; activate applies to Enabled accounts \(request req_/)
    expect(remote(["run", "Set status", "abc-123", "status=sideways"]).code).toBe(2)
    expect(remote(["accounts", "list"], undefined, "acct_wrong_key_00000000").code).toBe(5)
    const noKey = acct(["accounts", "list"], undefined, { ACCT_URL: server.url(), ACCT_API_KEY: "" })
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toContain("needs an API key in the environment variable ACCT_API_KEY")
    const down = acct(["accounts", "list", "--remote", "http://127.0.0.1:9"], undefined, { ACCT_API_KEY: KEY })
    expect(down.code).toBe(6)
    expect(down.stderr).toContain("cannot reach acct at http://127.0.0.1:9")
  })

  it("relates and unrelates through the server, and lists relations as the local database does", () => {
    expect(remote(["accounts", "relate", "abc-123", "household", "def-456"]).code).toBe(0)
    const ids = (listed: Record<string, { data: ReadonlyArray<{ id: string }> }>) => Object.fromEntries(Object.entries(listed).map(([key, page]) => [key, page.data.map((a) => a.id)]))
    const viaServer = ids(remote(["accounts", "relations", "abc-123", "--json"]).json())
    expect(viaServer.household).toHaveLength(1)
    expect(viaServer).toEqual(ids(acct(["accounts", "relations", "abc-123", "--json"]).json()))
    const twice = remote(["accounts", "relate", "abc-123", "referred_by", "abc-123"])
    expect(twice.code).toBe(2)
    expect(twice.stderr).toContain("cannot be related to itself")
    expect(remote(["accounts", "unrelate", "abc-123", "household", "def-456"]).code).toBe(0)
    expect(acct(["accounts", "relations", "abc-123", "--key", "household", "--json"]).json().household.data).toEqual([])
  })

  it("imports a CSV through the server, as it would locally", () => {
    const csv = "reference_id,name_first,name_last,birthdate\nr-1,Ada,Lovelace,1815-12-10\nr-2,Alan,Turing,1912-13-23\n"
    const result = remote(["import", "accounts", "--json", "-"], csv)
    expect(result.code, result.stderr).toBe(7)
    expect(result.json()).toMatchObject({ status: "ready", rows: 2, created: 1, duplicates: 0, refused: 1, errors: [{ row: 3, column: "birthdate" }] })
    expect(acct(["accounts", "get", "r-1", "--json"]).json().fields.birthdate).toEqual({ type: "date", value: "1815-12-10" })
    expect(remote(["import", "accounts", "--json", "-"], csv).json()).toMatchObject({ created: 0, duplicates: 1 })
  })

  it("bulk through the server, safe to re-run", () => {
    const ids = ["def-456", "abc-123", "nobody"].join("\n")
    const first = remote(["bulk", "Mark VIP", "--ids", "-", "--json", "--report", "r.jsonl"], ids)
    expect(first.code).toBe(7)
    expect(first.json()).toMatchObject({ total: 3, succeeded: 2, failed: 1 })
    const runs = acct(["runs", "list", "--size", "100", "--json"]).json().data.length
    expect(remote(["bulk", "Mark VIP", "--ids", "-", "--json"], "def-456\nabc-123").json()).toMatchObject({ succeeded: 2, failed: 0 })
    expect(acct(["runs", "list", "--size", "100", "--json"]).json().data.length).toBe(runs)
  })
})
