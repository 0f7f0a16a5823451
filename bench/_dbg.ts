import { SqliteStore } from "@acct/store-sql"
import { Accounts } from "@acct/core"
import { Effect } from "effect"
const t = setTimeout(() => { console.log("still running after 3s"); process.exit(3) }, 3000)
const r = await Effect.runPromiseExit(Effect.flatMap(Accounts, (a) => a.listTypes()).pipe(Effect.provide(SqliteStore({ filename: "/proc/nope/x.db" }))))
clearTimeout(t)
console.log(JSON.stringify(r).slice(0, 500))
