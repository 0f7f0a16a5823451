/**
 * The permission check of every change, for an Accounts that does not check them itself (an
 * upstream provider behind acct's HTTP service or Slack app: the upstream sees only acct's own
 * credentials). The same scopes as the local store: account.write for fields, tags and
 * consolidation, account.action for lifecycle operations and actions, account.redact to redact.
 */
import { Effect } from "effect"
import type { AccountsService, Invocation } from "./accounts.js"
import { requireScope, type Scope } from "./principal.js"

const guard = <A, E, R>(invocation: Invocation, scope: Scope, doing: string, effect: () => Effect.Effect<A, E, R>) => {
  const denied = requireScope(invocation.principal, scope, doing)
  return denied ? Effect.fail(denied) : effect()
}

export const withPermissions = (accounts: AccountsService): AccountsService => ({
  ...accounts,
  create: (input, invocation) => guard(invocation, "account.write", "create accounts", () => accounts.create(input, invocation)),
  update: (ref, input, invocation) => guard(invocation, "account.write", "change accounts", () => accounts.update(ref, input, invocation)),
  redact: (ref, invocation) => guard(invocation, "account.redact", "redact accounts", () => accounts.redact(ref, invocation)),
  addTag: (ref, tag, invocation) => guard(invocation, "account.write", "tag accounts", () => accounts.addTag(ref, tag, invocation)),
  removeTag: (ref, tag, invocation) => guard(invocation, "account.write", "tag accounts", () => accounts.removeTag(ref, tag, invocation)),
  changeTags: (ref, changes, invocation) => guard(invocation, "account.write", "tag accounts", () => accounts.changeTags(ref, changes, invocation)),
  setTags: (ref, tags, invocation) => guard(invocation, "account.write", "tag accounts", () => accounts.setTags(ref, tags, invocation)),
  consolidate: (destination, sources, invocation) => guard(invocation, "account.write", "consolidate accounts", () => accounts.consolidate(destination, sources, invocation)),
  lifecycle: (ref, operation, invocation) => guard(invocation, "account.action", `${operation} accounts`, () => accounts.lifecycle(ref, operation, invocation)),
  runAction: (ref, action, parameters, invocation) => guard(invocation, "account.action", "run account actions", () => accounts.runAction(ref, action, parameters, invocation))
})
