/**
 * SoftwareOne's account lifecycle as pure functions (states as `lifecycleStateOf` classifies them):
 *   enable     Disabled → Active when the account has an external (reference) id, else Enabled
 *   disable    Active | Enabled → Disabled
 *   activate   Enabled → Active (external id required)
 *   deactivate Active → Enabled
 * Anything else is refused with an InvalidState that says why.
 */
import { Either } from "effect"
import type { Account } from "./account.js"
import type { AccountType, LifecycleOperation, LifecycleState } from "./catalog.js"
import { InvalidState } from "./errors.js"

/**
 * The one classification of a type's statuses, used by the lifecycle transitions and by every
 * view of them (the SoftwareOne surface's `status`): the three mapped statuses are Active,
 * Enabled and Disabled; any other status (the demo's `pending`) counts as Disabled — the account
 * is not usable yet — so it is shown as Disabled and can be enabled like any Disabled account.
 */
export const lifecycleStateOf = (type: AccountType, status: string): LifecycleState =>
  status === type.lifecycle.active ? "Active" : status === type.lifecycle.enabled ? "Enabled" : "Disabled"

export const statusFor = (type: AccountType, state: LifecycleState): string =>
  state === "Active" ? type.lifecycle.active : state === "Enabled" ? type.lifecycle.enabled : type.lifecycle.disabled

const allowedFrom: Record<LifecycleOperation, ReadonlyArray<LifecycleState>> = {
  enable: ["Disabled"],
  disable: ["Active", "Enabled"],
  activate: ["Enabled"],
  deactivate: ["Active"]
}

/** The lifecycle state an operation leads to, or why it cannot run. */
export const transition = (
  type: AccountType,
  account: Pick<Account, "id" | "status" | "referenceId">,
  operation: LifecycleOperation
): Either.Either<LifecycleState, InvalidState> => {
  const current = lifecycleStateOf(type, account.status)
  const refuse = (why: string) =>
    Either.left(new InvalidState({ currentStatus: account.status, message: `cannot ${operation} account ${account.id}: ${why}` }))
  if (!allowedFrom[operation].includes(current)) {
    const shown = account.status === statusFor(type, current) ? current : `${current} (status "${account.status}" counts as ${current})`
    return refuse(`it is ${shown}; ${operation} applies to ${allowedFrom[operation].join(" or ")} accounts`)
  }
  const hasExternalId = account.referenceId !== null
  switch (operation) {
    case "enable":
      return Either.right(hasExternalId ? "Active" : "Enabled")
    case "disable":
      return Either.right("Disabled")
    case "activate":
      return hasExternalId ? Either.right("Active") : refuse("it has no external (reference) id; set one before activating")
    case "deactivate":
      return Either.right("Enabled")
  }
}
