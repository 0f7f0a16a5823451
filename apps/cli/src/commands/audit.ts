/** `acct audit`: the audit trail of a local database — every change and refusal, newest first. */
import { Accounts, InvalidRequest } from "@acct/core"
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { accountArg, listOptions, local, output, parseTime, withStore } from "../context.js"
import { auditTable, json } from "../render.js"

export const auditCommand = Command.make(
  "audit",
  {
    ...local,
    ...listOptions("entries", "", { name: "CURSOR", description: "the page after this cursor (from `next`)" }),
    actor: Options.text("actor").pipe(Options.withPseudoName("ACTOR"), Options.withDescription("only entries by this actor: its kind (cli, slack, api-key, system), id, name, or kind:id (cli:alice)"), Options.optional)
  },
  (o) =>
    Effect.gen(function* () {
      if (!Number.isInteger(o.size) || o.size < 1 || o.size > 100) return yield* new InvalidRequest({ message: "page size must be an integer from 1 to 100" })
      if (Option.isSome(o.after) && !/^\d+$/.test(o.after.value)) return yield* new InvalidRequest({ message: `--after: expected a cursor from \`next\`, got ${JSON.stringify(o.after.value)}` })
      const accountId = Option.isSome(o.account) ? (yield* Effect.flatMap(accountArg(o.account.value), (ref) => Effect.flatMap(Accounts, (a) => a.get(ref)))).id : undefined
      const { listAuditLog } = yield* Effect.promise(() => import("@acct/store-sql"))
      const page = yield* listAuditLog({
        accountId,
        actor: Option.getOrUndefined(o.actor),
        since: Option.isSome(o.since) ? yield* parseTime("--since", o.since.value) : undefined,
        size: o.size,
        after: Option.getOrUndefined(o.after)
      })
      yield* output(o.json, () => ({ data: page.items.map(json.audit), next: page.next }), () =>
        page.items.length === 0
          ? "No audit entries match."
          : [auditTable(page.items), ...(page.next ? [`\nMore: acct audit --after ${page.next}${Option.isSome(o.account) ? ` --account ${o.account.value}` : ""}`] : [])].join("\n")
      )
    })
).pipe(
  Command.withDescription(`The audit trail: every change and refusal (create, updates, tags, redactions, lifecycle operations, action runs, consolidations) with actor, channel, reason and status before → after, newest first, a page at a time. Local databases only (--db); a server's trail is in its database.

Examples:
  acct audit --account abc-123
  acct audit --actor alice --since 2026-12-01
  acct audit --json --size 100`),
  withStore
)
