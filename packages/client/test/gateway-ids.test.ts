/**
 * The clients through an acct server in gateway mode toward a Persona whose ids are not shaped
 * like acct's (the fake of apps/server/test/fake-upstreams.ts, speaking Persona's wire format):
 * ids are told from names, and read, as the server makes them.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { personaProfile, personaShapedIds, startPersona } from "../../../apps/server/test/fake-upstreams.js"
import { type AcctClient, createClient } from "../src/index.js"
import { startAcct } from "./harness.js"

let persona: Awaited<ReturnType<typeof startPersona>>
let gateway: Awaited<ReturnType<typeof startAcct>>
let client: AcctClient
beforeAll(async () => {
  persona = await startPersona("persona-key", personaShapedIds)
  const config = path.join(mkdtempSync(path.join(tmpdir(), "acct-client-gateway-")), "acct.config.yaml")
  writeFileSync(config, `profiles:\n  p:\n${personaProfile(persona, "ACCT_TEST_PERSONA_KEY").map((l) => `    ${l}\n`).join("")}`)
  gateway = await startAcct({ ACCT_CONFIG: config, ACCT_PROFILE: "p", ACCT_TEST_PERSONA_KEY: "persona-key" })
  client = createClient({ baseUrl: gateway.url, apiKey: gateway.apiKey })
})
afterAll(async () => {
  await client?.close()
  await gateway?.close()
  await persona?.close()
})

describe("the HTTP client through a gateway to Persona, with Persona's ids", () => {
  it("tells Persona's action and type ids from names, and passes them on", async () => {
    const { run } = await client.runAction("abc-123", persona.ACTION, { status: "Suspended" })
    expect(run).toMatchObject({ actionId: persona.ACTION, statusAfter: "Suspended" })
    expect(persona.statusOf(personaShapedIds.jane)).toBe("Suspended")
    expect(await client.getAction(persona.ACTION)).toMatchObject({ id: persona.ACTION, name: "Set status" })
    // By its name as before.
    expect(await client.getAction("Set status")).toMatchObject({ id: persona.ACTION })

    const { account } = await client.createAccount({ accountType: persona.TYPE, referenceId: "gw-created-1" })
    expect(account).toMatchObject({ id: expect.stringMatching(/^act_ABC123-\d+$/), accountTypeId: persona.TYPE, referenceId: "gw-created-1" })
  })

  it("the Promise client reads Persona's account ids as the server makes them (a dash included)", async () => {
    const { jane } = personaShapedIds
    expect(await client.getAccount(jane)).toMatchObject({ id: jane, referenceId: "abc-123" })
    const { account, run } = await client.lifecycle(jane, "enable")
    expect(account).toMatchObject({ id: jane, status: "Approved" })
    expect(run).toMatchObject({ accountId: jane, id: expect.stringMatching(/^wfr_ABC123-\d+$/) })
    expect((await client.addTag(jane, "vip")).account.tags).toEqual(["vip"])
    expect(persona.tagsOf(jane)).toEqual(["vip"])
  })
})
