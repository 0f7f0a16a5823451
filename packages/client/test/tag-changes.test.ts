/** changeTags over HTTP: several tags added and removed land as one change on the server. */
import { Principal, RetryPolicy } from "@acct/core"
import { FetchHttpClient } from "@effect/platform"
import { Accounts } from "@acct/core"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AccountsHttp } from "../src/index.js"
import { startAcct, startProxy } from "./harness.js"

let acct: Awaited<ReturnType<typeof startAcct>>
beforeAll(async () => {
  acct = await startAcct()
})
afterAll(() => acct.close())

const inv = { principal: Principal.make({ actor: { kind: "api-key", id: "t", name: "t" }, scopes: [] }), channel: "library" as const }

describe("AccountsHttp changeTags", () => {
  it("adds and removes several tags in one call, and replays under the same key", async () => {
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const accounts = yield* Accounts
        const before = yield* accounts.get({ referenceId: "def-456" })
        const keyed = { ...inv, idempotencyKey: "tags-once" }
        const after = yield* accounts.changeTags({ referenceId: "def-456" }, { add: ["gold", "silver"], remove: ["vip"] }, keyed)
        const again = yield* accounts.changeTags({ referenceId: "def-456" }, { add: ["gold", "silver"], remove: ["vip"] }, keyed)
        const refused = yield* Effect.flip(accounts.changeTags({ referenceId: "def-456" }, { add: ["x", "bad,tag"] }, inv))
        return { before, after, again, refused, last: yield* accounts.get({ referenceId: "def-456" }) }
      }).pipe(Effect.provide(AccountsHttp.layer({ baseUrl: acct.url, apiKey: acct.apiKey }).pipe(Layer.provide([FetchHttpClient.layer, RetryPolicy.Default]))))
    )
    expect(result.after.tags).toEqual([...result.before.tags.filter((t) => t !== "vip"), "gold", "silver"])
    expect(result.again).toEqual(result.after)
    expect(result.refused._tag).toBe("Unprocessable")
    expect(result.last).toEqual(result.after)
  })

  it("keeps a tag change someone else makes meanwhile: one change-tags request, not a read and a set-tags", async () => {
    const direct = AccountsHttp.layer({ baseUrl: acct.url, apiKey: acct.apiKey }).pipe(Layer.provide([FetchHttpClient.layer, RetryPolicy.Default]))
    const account = await Effect.runPromise(Effect.flatMap(Accounts, (a) => a.get({ referenceId: "abc-123" })).pipe(Effect.provide(direct)))
    // Someone else tags the account after the client's first request was served, before the client hears the answer.
    const someoneElse = () =>
      fetch(`${acct.url}/api/v1/accounts/${account.id}/add-tag`, {
        method: "POST",
        headers: { authorization: `Bearer ${acct.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ meta: { "tag-name": "meanwhile" } })
      }).then((answer) => expect(answer.status).toBe(200))
    const proxy = await startProxy(acct.port, (n) => (n === 1 ? { kind: "interleave", meanwhile: someoneElse } : { kind: "pass" }))
    try {
      const viaProxy = AccountsHttp.layer({ baseUrl: proxy.url, apiKey: acct.apiKey }).pipe(Layer.provide([FetchHttpClient.layer, RetryPolicy.Default]))
      await Effect.runPromise(Effect.flatMap(Accounts, (a) => a.changeTags({ id: account.id }, { add: ["gold", "silver"], remove: ["tag1"] }, inv)).pipe(Effect.provide(viaProxy)))
      const last = await Effect.runPromise(Effect.flatMap(Accounts, (a) => a.get({ id: account.id })).pipe(Effect.provide(direct)))
      expect(last.tags).toEqual(expect.arrayContaining(["gold", "silver", "meanwhile"]))
      expect(last.tags).not.toContain("tag1")
      expect(proxy.seen.map((r) => `${r.method} ${r.url.split("?")[0]}`)).toEqual([`POST /api/v1/accounts/${account.id}/change-tags`])
    } finally {
      await proxy.close()
    }
  })
})
