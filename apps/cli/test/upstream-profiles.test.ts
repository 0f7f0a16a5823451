/**
 * The CLI on records an upstream made, with the upstream's own ids: a SoftwareOne Marketplace
 * and a Persona (fakes speaking their specs' wire formats, apps/server/test/fake-upstreams.ts)
 * through `--profile`, and an acct server in gateway mode toward that Persona through `--remote`.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { personaProfile, personaShapedIds, startPersona, startSoftwareOne } from "../../server/test/fake-upstreams.js"
import { startAcctServer, workspace } from "./cli.js"

const GATEWAY_KEY = "acct_gateway_cli_test_key_0123456789abcdef"

/** A config file with one profile per entry, each's settings given as YAML lines. */
const configFile = (profiles: Record<string, ReadonlyArray<string>>) => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "acct-cli-profiles-")), "acct.config.yaml")
  writeFileSync(file, `profiles:\n${Object.entries(profiles).map(([name, lines]) => `  ${name}:\n${lines.map((l) => `    ${l}\n`).join("")}`).join("")}`)
  return file
}

describe("acct CLI on an upstream's records, with the upstream's ids", () => {
  const { acct, acctAsync } = workspace()
  const { jane, wei } = personaShapedIds
  let marketplace: Awaited<ReturnType<typeof startSoftwareOne>>
  let persona: Awaited<ReturnType<typeof startPersona>>
  let gateway: ReturnType<typeof startAcctServer>["server"] | undefined
  let gatewayUrl = ""
  let env: Record<string, string> = {}

  beforeAll(async () => {
    // A local store too, to show it still holds ids to acct's pattern.
    expect(acct(["init"]).code).toBe(0)
    marketplace = await startSoftwareOne("swo-token")
    persona = await startPersona("persona-key", personaShapedIds)
    const config = configFile({ so: ["provider: softwareone", `url: ${marketplace.url}`, "tokenEnv: ACCT_TEST_SWO_TOKEN"], p: personaProfile(persona, "ACCT_TEST_PERSONA_KEY") })
    env = { ACCT_CONFIG: config, ACCT_TEST_SWO_TOKEN: "swo-token", ACCT_TEST_PERSONA_KEY: "persona-key" }
    const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-cli-gateway-")), "gateway.db")
    const started = startAcctServer({ ...env, ACCT_PROFILE: "p", ACCT_DATABASE: database, ACCT_BOOTSTRAP_KEY: GATEWAY_KEY })
    gateway = started.server
    gatewayUrl = await started.url
  })
  afterAll(async () => {
    gateway?.kill("SIGTERM")
    await persona?.close()
    await marketplace?.close()
  })

  // The fakes answer from this process: the CLI runs without blocking it.
  const on = (profile: string, args: ReadonlyArray<string>) => acctAsync([...args, "--profile", profile], env)
  const remote = (args: ReadonlyArray<string>) => acctAsync(args, { ...env, ACCT_URL: gatewayUrl, ACCT_API_KEY: GATEWAY_KEY })

  it("prints SoftwareOne's accounts and runs as JSON, with SoftwareOne's ids", async () => {
    const got = await on("so", ["accounts", "get", "ACC-1234-5678", "--json"])
    expect(got.code, got.stderr).toBe(0)
    expect(got.json()).toMatchObject({ id: "ACC-1234-5678", referenceId: "nw-1", accountTypeId: "softwareone:Vendor", status: "Active", fields: { name: { type: "string", value: "Northwind Traders" } } })

    const listed = await on("so", ["accounts", "list", "--json"])
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.json().data.map((a: { id: string }) => a.id)).toEqual(["ACC-1234-5678", "ACC-2222-3333"])

    const disabled = await on("so", ["disable", "ACC-2222-3333", "--json"])
    expect(disabled.code, disabled.stderr).toBe(0)
    expect(disabled.json()).toMatchObject({ account: { id: "ACC-2222-3333", status: "Disabled" }, run: { accountId: "ACC-2222-3333", actionName: "disable", statusAfter: "Disabled" } })
    expect(marketplace.statusOf("ACC-2222-3333")).toBe("Disabled")
  })

  it("takes Persona's ids as Persona made them, and prints its records as JSON", async () => {
    const got = await on("p", ["accounts", "get", jane, "--json"])
    expect(got.code, got.stderr).toBe(0)
    expect(got.json()).toMatchObject({ id: jane, referenceId: "abc-123", accountTypeId: persona.TYPE, status: "Approved" })

    const disabled = await on("p", ["disable", jane, "--json"])
    expect(disabled.code, disabled.stderr).toBe(0)
    expect(disabled.json()).toMatchObject({ account: { id: jane, status: "Suspended" }, run: { id: expect.stringMatching(/^wfr_ABC123-\d+$/), accountId: jane, actionId: persona.ACTION } })
    expect(persona.statusOf(jane)).toBe("Suspended")

    // acct's own store still refuses an id outside acct's pattern, in its own words.
    const local = acct(["accounts", "get", jane])
    expect(local.code).toBe(2)
    expect(local.stderr).toContain('expected an account id ("act_" followed by 24–28 letters or digits) or a reference id')
  })

  it("prints an upstream's account types and actions, as JSON and for people", async () => {
    // SoftwareOne's own type name and capitalised status names.
    const type = await on("so", ["types", "show", "softwareone:Client", "--json"])
    expect(type.code, type.stderr).toBe(0)
    expect(type.json()).toMatchObject({ id: "softwareone:Client", name: "Client", statuses: ["Active", "Enabled", "Disabled"], defaultStatus: "Enabled", lifecycle: { active: "Active", enabled: "Enabled", disabled: "Disabled" } })
    const shown = await on("so", ["types", "show", "softwareone:Client"])
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toContain("Active=Active Enabled=Enabled Disabled=Disabled")

    // Persona's: its ids, its status names; an action whose definition (type, steps) lives in Persona.
    const personaType = await on("p", ["types", "show", persona.TYPE, "--json"])
    expect(personaType.code, personaType.stderr).toBe(0)
    expect(personaType.json()).toMatchObject({ id: persona.TYPE, name: "User", statuses: ["Default", "Approved", "Suspended"], lifecycle: { active: "Approved" } })
    const actions = await on("p", ["actions", "list", "--json"])
    expect(actions.code, actions.stderr).toBe(0)
    expect(actions.json()).toEqual({ data: [expect.objectContaining({ id: persona.ACTION, name: "Set status", accountTypeId: "", steps: [] })] })
    const action = await on("p", ["actions", "show", "Set status", "--json"])
    expect(action.code, action.stderr).toBe(0)
    expect(action.json()).toMatchObject({ id: persona.ACTION, name: "Set status" })
    const table = await on("p", ["actions", "list"])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toContain(persona.ACTION)
    const details = await on("p", ["actions", "show", persona.ACTION])
    expect(details.code, details.stderr).toBe(0)
    expect(details.stdout).toMatch(/account type: +-\n/)
    expect(details.stdout).toContain("steps: defined in the upstream")
  })

  it("through an acct gateway to Persona, reports a change that happened as done, from the change's answer", async () => {
    // The gateway cannot read Persona's runs back ("not available from Persona's API").
    const disabled = await remote(["disable", wei])
    expect(disabled.code, disabled.stderr).toBe(0)
    expect(disabled.stdout).toMatch(/^act_Vq7Bz2kRcMwX9sLpDfT4hYu1: now Suspended \(run wfr_ABC123-\d+\)\n$/)
    expect(persona.statusOf(wei)).toBe("Suspended")

    // Jane (disabled above) by her id with a dash, the run as the answer tells it.
    const enabled = await remote(["enable", jane, "--json", "--idempotency-key", "cli-gw-1"])
    expect(enabled.code, enabled.stderr).toBe(0)
    expect(enabled.json()).toMatchObject({
      account: { id: jane, status: "Approved" },
      run: { id: expect.stringMatching(/^wfr_ABC123-\d+$/), accountId: jane, actionId: null, actionName: "enable", status: "succeeded", statusBefore: "", statusAfter: "Approved", idempotencyKey: "cli-gw-1" }
    })
    expect(persona.statusOf(jane)).toBe("Approved")
  })
})
