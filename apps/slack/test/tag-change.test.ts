/** `/acct tag X +a -b` is one change of the account: one version step, or nothing. */
import { describe, expect, it } from "vitest"
import { parsePolicy } from "../src/policy.js"
import { startApp, text, useStoreAndCapture } from "./harness.js"

const fixture = useStoreAndCapture()
const parsed = parsePolicy("grants:\n  - users: [UTAG0001]\n    scopes: [account.write]\n", "policy.yaml")
if (parsed._tag === "Left") throw parsed.left
const tagger = { user: "UTAG0001" }

describe("/acct tag", () => {
  it("adds and removes several tags in one version step; a bad tag applies none", async () => {
    const app = await startApp(fixture.store.accounts, { policy: parsed.right })
    try {
      const account = () => fixture.store.runtime.runPromise(fixture.store.accounts.get({ referenceId: "def-456" }))
      const before = await account()
      const ask = async (command: string) => {
        const url = fixture.capture.url()
        await app.slash(command, url, tagger)
        return text(await fixture.capture.next(url))
      }
      expect(await ask("tag def-456 +gold +silver -vip")).toContain("gold")
      const after = await account()
      expect(after.tags).toEqual([...before.tags.filter((t) => t !== "vip"), "gold", "silver"])
      expect(after.version).toBe(before.version + 1)
      expect(await ask("tag def-456 +bronze +bad,tag")).toContain("tag")
      expect(await account()).toEqual(after)
    } finally {
      await app.close()
    }
  })
})
