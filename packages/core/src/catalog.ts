/**
 * What an operator configures: account types (fields, statuses, lifecycle mapping) and account
 * actions (parameters and steps). Loaded from a catalog file by the store.
 */
import { Schema } from "effect"
import { AttributeMapping } from "./attributes.js"
import { FieldSchema } from "./fields.js"
import { AccountActionId, AccountTypeId } from "./ids.js"
import { RelationSchema } from "./relations.js"

const Name = Schema.String.pipe(
  Schema.minLength(1, { message: () => "must not be empty" }),
  Schema.maxLength(100, { message: () => "must be at most 100 characters" })
)
const Status = Schema.String.pipe(
  Schema.pattern(/^[a-z][a-z0-9_-]{0,39}$/, { message: () => "a status is lowercase letters, digits, _ or -, starting with a letter" })
)

/** The three lifecycle states of the SoftwareOne model, and which status of a type stands for each. */
export const LifecycleState = Schema.Literal("Active", "Enabled", "Disabled")
export type LifecycleState = typeof LifecycleState.Type

export const LifecycleMapping = Schema.Struct({
  active: Status,
  enabled: Status,
  disabled: Status
})
export type LifecycleMapping = typeof LifecycleMapping.Type

export class AccountType extends Schema.Class<AccountType>("AccountType")({
  id: AccountTypeId,
  name: Name,
  description: Schema.optionalWith(Schema.String, { default: () => "" }),
  fields: Schema.Array(FieldSchema),
  /** The relations its accounts may have to other accounts (see relations.ts). */
  relations: Schema.optionalWith(Schema.Array(RelationSchema), { default: () => [] }),
  statuses: Schema.NonEmptyArray(Status),
  defaultStatus: Status,
  lifecycle: LifecycleMapping,
  /** Which field each of Persona's flat attributes (`name-first`, `email-address`, …) sets. */
  attributes: Schema.optional(AttributeMapping),
  /** The type an account is created as when a request names none (at most one type is the default). */
  default: Schema.optional(Schema.Boolean),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

/** A value in a step: a literal (`activated`), or `{ param: status }` to take an action parameter. */
export const StepValue = Schema.Union(
  Schema.Struct({ param: Schema.String }),
  Schema.String,
  Schema.Number,
  Schema.Boolean,
  Schema.Null
)
export type StepValue = typeof StepValue.Type

export const LifecycleOperation = Schema.Literal("enable", "disable", "activate", "deactivate")
export type LifecycleOperation = typeof LifecycleOperation.Type

const step = <Type extends string, Fields extends Schema.Struct.Fields>(type: Type, fields: Fields) =>
  Schema.Struct({ type: Schema.Literal(type), ...fields })

export const Step = Schema.Union(
  step("set-status", { status: StepValue }),
  step("set-fields", { fields: Schema.Record({ key: Schema.String, value: StepValue }) }),
  step("add-tags", { tags: Schema.Array(StepValue) }),
  step("remove-tags", { tags: Schema.Array(StepValue) }),
  step("lifecycle", { operation: LifecycleOperation }),
  /** Recorded on the run, and written as an event under its own name (webhooks, the events API). */
  step("emit-event", { event: Schema.String, data: Schema.optional(Schema.Record({ key: Schema.String, value: StepValue })) })
)
export type Step = typeof Step.Type

/** Parameters a step refers to with `{ param }`. */
export const stepParams = (s: Step): ReadonlyArray<string> => {
  const values: ReadonlyArray<StepValue> =
    s.type === "set-status" ? [s.status]
      : s.type === "set-fields" ? Object.values(s.fields)
        : s.type === "add-tags" || s.type === "remove-tags" ? s.tags
          : s.type === "emit-event" ? Object.values(s.data ?? {})
            : []
  return values.flatMap((v) => (v !== null && typeof v === "object" ? [v.param] : []))
}

export class AccountAction extends Schema.Class<AccountAction>("AccountAction")({
  id: AccountActionId,
  name: Name,
  description: Schema.optionalWith(Schema.String, { default: () => "" }),
  accountTypeId: AccountTypeId,
  parameters: Schema.Array(FieldSchema),
  steps: Schema.NonEmptyArray(Step),
  /** Chat surfaces ask for a confirmation click before running it. */
  confirm: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}) {}

// What an upstream defines keeps the upstream's shape (ids.ts `IdOwner`): its ids, and its status
// names (SoftwareOne's `Active`, Persona's `Approved`, not acct's lowercase catalog names). An
// upstream action's definition may live in the upstream alone (Persona's API exposes none): no
// account type (`""`) and no steps. Every other field is held to acct's schema.
const UpstreamStatus = Schema.String
const UpstreamAccountType = Schema.Struct({
  ...AccountType.fields,
  id: AccountTypeId.upstream,
  statuses: Schema.NonEmptyArray(UpstreamStatus),
  defaultStatus: UpstreamStatus,
  lifecycle: Schema.Struct({ active: UpstreamStatus, enabled: UpstreamStatus, disabled: UpstreamStatus })
})
const UpstreamAccountAction = Schema.Struct({
  ...AccountAction.fields,
  id: AccountActionId.upstream,
  accountTypeId: Schema.Union(Schema.Literal(""), AccountTypeId.upstream),
  steps: Schema.Array(Step)
})
const encodeUpstreamAccountType = Schema.encodeSync(UpstreamAccountType)
const encodeUpstreamAccountAction = Schema.encodeSync(UpstreamAccountAction)
const decodeUpstreamAccountAction = Schema.decodeUnknownSync(UpstreamAccountAction)

/** An action an upstream reported, from its encoded form (ISO dates): checked as acct's own, but for what the upstream defines. */
export const decodeUpstreamAction = (encoded: unknown): AccountAction =>
  // The domain type holds acct's own (a type, some steps); an upstream's may have neither, as
  // its provider builds them (upstream/persona.ts `knownAction`).
  new AccountAction(decodeUpstreamAccountAction(encoded) as ConstructorParameters<typeof AccountAction>[0], true)

/**
 * Any account type in its encoded form (ISO dates), whoever defined it: `Schema.encode(AccountType)`
 * refuses an upstream's (`softwareone:Client`, status `Active`), and acct's own pass the upstream
 * schema too, so they come out exactly as `Schema.encode(AccountType)` gives them.
 */
export const encodeAnyType = (type: AccountType): typeof UpstreamAccountType.Encoded => encodeUpstreamAccountType(type)

/** Any account action in its encoded form, whoever defined it (as `encodeAnyType`). */
export const encodeAnyAction = (action: AccountAction): typeof UpstreamAccountAction.Encoded => encodeUpstreamAccountAction(action)
