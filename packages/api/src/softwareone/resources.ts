/** SoftwareOne's account model (`AccountQueryModel`), mapped from acct's accounts. */
import { type Account, type AccountType, lifecycleStateOf } from "@acct/core"
import { Schema } from "effect"

export const AccountStatus = Schema.Literal("Active", "Enabled", "Disabled")

const SoftwareOneType = Schema.Literal("Client", "Vendor", "Operations")
const isSoftwareOneType = Schema.is(SoftwareOneType)

export const SoftwareOneAccount = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  externalId: Schema.NullOr(Schema.String),
  type: SoftwareOneType,
  status: AccountStatus,
  audit: Schema.Struct({
    created: Schema.Struct({ at: Schema.String }),
    updated: Schema.Struct({ at: Schema.String })
  }),
  /** acct's own status name, where the lifecycle state alone would lose it. */
  $meta: Schema.Struct({ accountStatus: Schema.String, accountType: Schema.String })
})
export type SoftwareOneAccount = typeof SoftwareOneAccount.Type

export const SoftwareOneAccountList = Schema.Struct({
  $meta: Schema.Struct({ pagination: Schema.Struct({ offset: Schema.Number, limit: Schema.Number }) }),
  data: Schema.Array(SoftwareOneAccount)
})

const displayName = (account: Account): string => {
  const name = account.fields.name?.value
  // A plain string: an account read from SoftwareOne (its name), in gateway mode.
  if (typeof name === "string" && name !== "") return name
  if (name !== null && typeof name === "object") {
    const parts = Object.values(name as Record<string, { value: unknown }>)
      .map((part) => part?.value)
      .filter((v): v is string => typeof v === "string" && v !== "")
    if (parts.length > 0) return parts.join(" ")
  }
  return account.referenceId ?? account.id
}

/**
 * SoftwareOne knows three states. A status outside the type's lifecycle (e.g. `pending`) is
 * reported as Disabled — the account cannot be used — with the real status in `$meta`. The type
 * is Client unless the account's type is one of SoftwareOne's own (an account read from
 * SoftwareOne, in gateway mode).
 */
export const toSoftwareOneAccount = (account: Account, type: AccountType): SoftwareOneAccount => ({
  id: account.id,
  name: displayName(account),
  externalId: account.referenceId,
  type: isSoftwareOneType(account.accountTypeName) ? account.accountTypeName : "Client",
  status: lifecycleStateOf(type, account.status),
  audit: { created: { at: account.createdAt.toISOString() }, updated: { at: account.updatedAt.toISOString() } },
  $meta: { accountStatus: account.status, accountType: account.accountTypeName }
})
