import { Accounts, type LifecycleOperation, statusChange } from "@acct/core"
import { Args, Command } from "@effect/cli"
import { Effect } from "effect"
import { accountArg, invocation, mutation, output, withBackend } from "../context.js"
import { json } from "../render.js"

const rules: Record<LifecycleOperation, string> = {
  enable: "Disabled → Active when the account has a reference (external) id, else Enabled.",
  disable: "Active or Enabled → Disabled.",
  activate: "Enabled → Active; needs a reference (external) id.",
  deactivate: "Active → Enabled."
}

const lifecycleCommand = (operation: LifecycleOperation) =>
  Command.make(operation, { ...mutation, account: Args.text({ name: "account" }).pipe(Args.withDescription("an act_… id or a reference id")) }, (o) =>
    Effect.gen(function* () {
      const ref = yield* accountArg(o.account)
      const { account, run } = yield* Effect.flatMap(Accounts, (a) => a.lifecycle(ref, operation, invocation(o)))
      yield* output(
        o.json,
        () => ({ account: json.account(account), run: json.run(run) }),
        () => `${account.referenceId ?? account.id}: ${statusChange(run)} (run ${run.id})`
      )
    })
  ).pipe(
    Command.withDescription(`${operation[0]!.toUpperCase()}${operation.slice(1)} an account: ${rules[operation]} From any other state it is refused (exit 4) and nothing changes.\n\nExample:\n  acct ${operation} abc-123 --reason 'ticket #4521'`),
    withBackend
  )

export const lifecycleCommands = (["enable", "disable", "activate", "deactivate"] as const).map(lifecycleCommand)
