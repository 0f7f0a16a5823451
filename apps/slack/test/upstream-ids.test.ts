/**
 * The Slack app in front of an upstream (here the Persona provider on a fake Persona speaking its
 * spec's wire format, apps/server/test/fake-upstreams.ts): the accounts people name are read as
 * the upstream makes its ids, a dash included.
 */
import { PersonaAccounts } from "@acct/client"
import { Accounts, RetryPolicy } from "@acct/core"
import { FetchHttpClient } from "@effect/platform"
import { Layer, ManagedRuntime } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { personaShapedIds, startPersona } from "../../server/test/fake-upstreams.js"
import { OPS, startApp, startCapture, text } from "./harness.js"

describe("/acct on an upstream's ids", () => {
  let persona: Awaited<ReturnType<typeof startPersona>>
  let capture: Awaited<ReturnType<typeof startCapture>>
  let runtime: ManagedRuntime.ManagedRuntime<Accounts, never>
  beforeAll(async () => {
    persona = await startPersona("persona-key", personaShapedIds)
    capture = await startCapture()
    runtime = ManagedRuntime.make(
      PersonaAccounts.layer({ baseUrl: persona.url, apiKey: "persona-key", actions: { "Set status": persona.ACTION } }).pipe(Layer.provide([FetchHttpClient.layer, RetryPolicy.Default]))
    )
  })
  afterAll(async () => {
    await runtime?.dispose()
    await capture?.close()
    await persona?.close()
  })

  it("shows a Persona account named by Persona's id; acct's own store keeps acct's pattern", async () => {
    const accounts = await runtime.runPromise(Accounts)
    const ask = async (app: Awaited<ReturnType<typeof startApp>>, command: string) => {
      const url = capture.url()
      await app.slash(command, url, { user: "UOPS0001" })
      return text(await capture.next(url))
    }
    const upstream = await startApp(accounts, { policy: OPS, ids: "upstream" })
    const asIfOwn = await startApp(accounts, { policy: OPS })
    try {
      const shown = await ask(upstream, `show ${personaShapedIds.jane}`)
      expect(shown).toContain(personaShapedIds.jane)
      expect(shown).toContain("abc-123")
      expect(shown).not.toContain("expected an account id")
      expect(await ask(asIfOwn, `show ${personaShapedIds.jane}`)).toContain('expected an account id (\\"act_\\" followed by 24–28 letters or digits)')
    } finally {
      await upstream.close()
      await asIfOwn.close()
    }
  })
})
