import { Account, AccountAction, AccountActionId, AccountId, AccountType, AccountTypeId } from "../src/index.js"

const at = new Date("2026-01-01T00:00:00.000Z")

export const userType = AccountType.make({
  id: AccountTypeId.make(),
  name: "User",
  description: "",
  fields: [
    { key: "name", type: "hash", fields: [{ key: "first", type: "string" }, { key: "last", type: "string" }] },
    { key: "email_address", type: "email-address" },
    { key: "age", type: "integer" },
    { key: "birthdate", type: "date" }
  ],
  statuses: ["pending", "activated", "deactivated", "disabled"],
  defaultStatus: "deactivated",
  lifecycle: { active: "activated", enabled: "deactivated", disabled: "disabled" },
  createdAt: at,
  updatedAt: at
})

export const account = (status: string, referenceId: string | null = "ext-1") =>
  Account.make({
    id: AccountId.make(),
    referenceId,
    accountTypeId: userType.id,
    accountTypeName: "User",
    status,
    fields: {},
    tags: ["a"],
    version: 1,
    createdAt: at,
    updatedAt: at,
    redactedAt: null,
    consolidatedInto: null
  })

export const action = (fields: Partial<ConstructorParameters<typeof AccountAction>[0]>) =>
  AccountAction.make({
    id: AccountActionId.make(),
    name: "Test",
    description: "",
    accountTypeId: userType.id,
    parameters: [],
    steps: [{ type: "add-tags", tags: ["x"] }],
    confirm: false,
    createdAt: at,
    updatedAt: at,
    ...fields
  })
