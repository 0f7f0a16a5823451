/**
 * The one permission policy: which scope each operation of the Accounts port needs. Every
 * implementation follows it — the store checks it in its mutation frame (and audits refusals),
 * `withPolicy` applies it in front of implementations that cannot check it themselves (an
 * upstream provider sees only acct's own credentials), and the edges (HTTP reads, Slack) ask it
 * before they call.
 */
import { Effect } from "effect"
import type { AccountsService } from "./accounts.js"
import type { Forbidden } from "./errors.js"
import { type Actor, type Principal, requireScope, sameActor, type Scope } from "./principal.js"

export type AccountsOperation = keyof AccountsService

interface Rule {
  readonly scope: Scope
  /** What the refusal says the principal may not do ("may not tag accounts"). */
  readonly doing: string
}

const read: Rule = { scope: "account.read", doing: "read accounts" }
const tag: Rule = { scope: "account.write", doing: "tag accounts" }

/** Every operation of the port, by name: the compiler keeps it complete. */
export const accountsPolicy: { readonly [K in AccountsOperation]: Rule } = {
  list: read,
  search: read,
  get: read,
  listTypes: read,
  getType: read,
  listActions: read,
  getAction: read,
  listRuns: read,
  getRun: read,
  create: { scope: "account.write", doing: "create accounts" },
  update: { scope: "account.write", doing: "change accounts" },
  addTag: tag,
  removeTag: tag,
  changeTags: tag,
  setTags: tag,
  consolidate: { scope: "account.write", doing: "consolidate accounts" },
  listRelations: read,
  addRelation: { scope: "account.write", doing: "relate accounts" },
  removeRelation: { scope: "account.write", doing: "relate accounts" },
  importAccounts: { scope: "account.write", doing: "import accounts" },
  getImporter: read,
  listImporters: read,
  listImportErrors: read,
  redact: { scope: "account.redact", doing: "redact accounts" },
  lifecycle: { scope: "account.action", doing: "change account lifecycles" },
  runAction: { scope: "account.action", doing: "run account actions" }
}

/** Events carry the accounts' data (payloads, what changed): reading them needs what reading accounts needs. */
export const eventsRule: Rule = { scope: "account.read", doing: "read events" }

/** The refusal, if `principal` may not read events. */
export const requireEventsRead = (principal: Principal): Effect.Effect<void, Forbidden> => {
  const denied = requireScope(principal, eventsRule.scope, eventsRule.doing)
  return denied ? Effect.fail(denied) : Effect.void
}

/**
 * The refusal, if `principal` may not perform `operation`. `doing` overrides the rule's wording
 * where the edge knows better ("enable accounts" for a lifecycle operation).
 */
export const authorize = (principal: Principal, operation: AccountsOperation, doing?: string): Forbidden | undefined => {
  const rule = accountsPolicy[operation]
  return requireScope(principal, rule.scope, doing ?? rule.doing)
}

/** `authorize` as an effect: fails with the refusal. */
export const requireAllowed = (principal: Principal, operation: AccountsOperation, doing?: string): Effect.Effect<void, Forbidden> => {
  const denied = authorize(principal, operation, doing)
  return denied ? Effect.fail(denied) : Effect.void
}

/**
 * `requireAllowed` for a change: the operation's scope, and `account.delegate` when the
 * invocation names a person other than the principal.
 */
export const requireChangeAllowed = (
  invocation: { readonly principal: Principal; readonly onBehalfOf?: Actor | undefined },
  operation: AccountsOperation,
  doing?: string
): Effect.Effect<void, Forbidden> => {
  const { principal, onBehalfOf } = invocation
  const denied =
    (onBehalfOf !== undefined && !sameActor(onBehalfOf, principal.actor)
      ? requireScope(principal, "account.delegate", `act on behalf of ${onBehalfOf.kind}:${onBehalfOf.id}`)
      : undefined) ?? authorize(principal, operation, doing)
  return denied ? Effect.fail(denied) : Effect.void
}

/**
 * The policy in front of an Accounts that does not check it itself. Reads carry no principal
 * in the port; the edges check them with `authorize` before calling.
 */
export const withPolicy = (accounts: AccountsService): AccountsService => {
  const guard = <A, E>(invocation: { readonly principal: Principal; readonly onBehalfOf?: Actor | undefined }, operation: AccountsOperation, effect: () => Effect.Effect<A, E>, doing?: string) =>
    Effect.zipRight(requireChangeAllowed(invocation, operation, doing), Effect.suspend(effect))
  return {
    ...accounts,
    create: (input, invocation) => guard(invocation, "create", () => accounts.create(input, invocation)),
    update: (ref, input, invocation) => guard(invocation, "update", () => accounts.update(ref, input, invocation)),
    redact: (ref, invocation) => guard(invocation, "redact", () => accounts.redact(ref, invocation)),
    addTag: (ref, tag, invocation) => guard(invocation, "addTag", () => accounts.addTag(ref, tag, invocation)),
    removeTag: (ref, tag, invocation) => guard(invocation, "removeTag", () => accounts.removeTag(ref, tag, invocation)),
    changeTags: (ref, changes, invocation) => guard(invocation, "changeTags", () => accounts.changeTags(ref, changes, invocation)),
    setTags: (ref, tags, invocation) => guard(invocation, "setTags", () => accounts.setTags(ref, tags, invocation)),
    consolidate: (destination, sources, invocation) => guard(invocation, "consolidate", () => accounts.consolidate(destination, sources, invocation)),
    addRelation: (ref, relation, invocation) => guard(invocation, "addRelation", () => accounts.addRelation(ref, relation, invocation)),
    removeRelation: (ref, relation, invocation) => guard(invocation, "removeRelation", () => accounts.removeRelation(ref, relation, invocation)),
    importAccounts: (input, invocation) => guard(invocation, "importAccounts", () => accounts.importAccounts(input, invocation)),
    lifecycle: (ref, operation, invocation) => guard(invocation, "lifecycle", () => accounts.lifecycle(ref, operation, invocation), `${operation} accounts`),
    runAction: (ref, action, parameters, invocation) => guard(invocation, "runAction", () => accounts.runAction(ref, action, parameters, invocation))
  }
}
