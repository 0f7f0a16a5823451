import { Accounts, type Invocation, Principal, type Scope } from "@acct/core"
import { Effect, Either, Layer } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { demoCatalog, loadCatalog, parseCatalog, seedDemoAccounts, SqliteStore } from "../src/index.js"

export const tempDb = () => path.join(mkdtempSync(path.join(tmpdir(), "acct-store-")), "acct.db")

/** A store on a real SQLite file (or :memory:) with the demo catalog and accounts. */
export const demoStore = (filename = ":memory:", seed = true) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      yield* loadCatalog(Either.getOrThrow(parseCatalog(JSON.stringify(demoCatalog), "demo.json")), "demo")
      if (seed) yield* seedDemoAccounts
    })
  ).pipe(Layer.provideMerge(SqliteStore({ filename })), Layer.orDie)

export const as = (scopes: ReadonlyArray<Scope> = ["admin"], id = "tester"): Invocation => ({
  principal: Principal.make({ actor: { kind: "cli", id, name: id }, scopes: [...scopes] }),
  channel: "cli"
})

export const jane = { referenceId: "abc-123" } as const

export const accounts = Accounts
