import { Accounts, InvalidRequest } from "@acct/core"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Either, Option } from "effect"
import { local, store } from "../context.js"
import { InputTooLarge, readInput } from "../read-input.js"

/** Catalogs are hand-written: anything past this is not one. */
const CATALOG_LIMIT_BYTES = 8 * 1024 * 1024

export const initCommand = Command.make(
  "init",
  {
    ...local,
    demo: Options.boolean("demo").pipe(Options.withDescription("load the demo catalog (type User, actions incl. 'Set status') and demo accounts")),
    catalog: Options.text("catalog").pipe(Options.withDescription("load account types and actions from a YAML or JSON file"), Options.optional)
  },
  (o) =>
    Effect.gen(function* () {
      const { demoCatalog, loadCatalog, parseCatalog, redactUrl, seedDemoAccounts } = yield* Effect.promise(() => import("@acct/store-sql"))
      const load = (text: string, source: string, format?: "json") =>
        Either.match(parseCatalog(text, source, format), { onLeft: Effect.fail, onRight: (c) => loadCatalog(c, source) })
      let seeded = 0
      if (o.demo) {
        yield* load(JSON.stringify(demoCatalog), "demo catalog", "json")
        seeded = yield* seedDemoAccounts
      }
      if (Option.isSome(o.catalog)) {
        const file = o.catalog.value
        const text = yield* Effect.try({
          try: () => readInput(file, CATALOG_LIMIT_BYTES),
          catch: (e) =>
            new InvalidRequest({ message: `${file}: cannot read the catalog file (${e instanceof InputTooLarge ? e.message : ((e as NodeJS.ErrnoException).code ?? String(e))})` })
        })
        yield* load(text, file)
      }
      const accounts = yield* Accounts
      const types = yield* accounts.listTypes()
      const actions = yield* accounts.listActions()
      const summary = { database: redactUrl(o.db), accountTypes: types.length, actions: actions.length, demoAccountsCreated: seeded }
      yield* o.json
        ? Console.log(JSON.stringify(summary, null, 2))
        : Console.log(
            [
              `Database ${summary.database} is ready: ${types.length} account type(s), ${actions.length} action(s)${o.demo ? `, ${seeded} demo account(s) created` : ""}.`,
              ...(types.length === 0 ? ["Load a catalog with `acct init --catalog FILE`, or try `acct init --demo`."] : ["Next: acct accounts list · acct actions list · acct run 'Set status' abc-123 status=activated"])
            ].join("\n")
          )
    })
).pipe(
  Command.withDescription(
    "Create or upgrade the database (migrations), and load a catalog. Safe to run again: catalogs are upserted by name, demo accounts are only created in an empty database.\n\nExamples:\n  acct init --demo\n  acct init --catalog catalog.yaml --db /var/lib/acct/acct.db"
  ),
  Command.provide((o) => store(o.db, { create: true }))
)
