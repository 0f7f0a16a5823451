import { Accounts, assign, statusChange } from "@acct/core"
import { Args, Command } from "@effect/cli"
import { Effect, Either } from "effect"
import { accountArg, invocation, mutation, output, withBackend } from "../context.js"
import { json } from "../render.js"

export const runCommand = Command.make(
  "run",
  {
    ...mutation,
    action: Args.text({ name: "action" }).pipe(Args.withDescription("action id (accac_…) or name, e.g. 'Set status'")),
    account: Args.text({ name: "account" }).pipe(Args.withDescription("an act_… id or a reference id")),
    parameters: Args.text({ name: "param=value" }).pipe(Args.withDescription("action parameters, typed by the action's schema"), Args.repeated)
  },
  (o) =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const ref = yield* accountArg(o.account)
      const action = yield* accounts.getAction(o.action)
      const parameters = yield* Either.match(assign(action.parameters, o.parameters), { onLeft: Effect.fail, onRight: Effect.succeed })
      const { account, run } = yield* accounts.runAction(ref, action.id, parameters, invocation(o))
      yield* output(
        o.json,
        () => ({ account: json.account(account), run: json.run(run) }),
        () =>
          [
            `${action.name} on ${account.referenceId ?? account.id}: ${statusChange(run)}`,
            `run ${run.id}${run.events.length > 0 ? `, events: ${run.events.map((e) => e.event).join(", ")}` : ""}`
          ].join("\n")
      )
    })
).pipe(
  Command.withDescription(
    "Run a configured account action on one account. See `acct actions list` for actions and their parameters.\n\nExamples:\n  acct run 'Set status' abc-123 status=activated\n  acct run 'Suspend for review' abc-123 reason='chargeback' --idempotency-key ticket-4521"
  ),
  withBackend
)
