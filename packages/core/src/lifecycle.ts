/**
 * SoftwareOne's account lifecycle as pure functions:
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

export const lifecycleStateOf = (type: AccountType, status: string): LifecycleState | undefined =>
  status === type.lifecycle.active
    ? "Active"
    : status === type.lifecycle.enabled
      ? "Enabled"
      : status === type.lifecycle.disabled
        ? "Disabled"
        : undefined

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
  if (current === undefined) {
    return refuse(`its status "${account.status}" is not part of the ${type.name} lifecycle (${type.lifecycle.active}, ${type.lifecycle.enabled}, ${type.lifecycle.disabled})`)
  }
  if (!allowedFrom[operation].includes(current)) {
    return refuse(`it is ${current}; ${operation} applies to ${allowedFrom[operation].join(" or ")} accounts`)
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
