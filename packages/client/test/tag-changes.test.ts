/** changeTags over HTTP: several tags added and removed land as one change on the server. */
import { Principal, RetryPolicy } from "@acct/core"
import { FetchHttpClient } from "@effect/platform"
import { Accounts } from "@acct/core"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AccountsHttp } from "../src/index.js"
import { startAcct } from "./harness.js"

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
})
