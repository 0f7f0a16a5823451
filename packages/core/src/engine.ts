/**
 * The action engine, pure: validate an action's parameters, then fold its steps over the account.
 * The store wraps the result in one transaction with the run record and the audit entry.
 */
import { Either, Schema } from "effect"
import { Account, Tag } from "./account.js"
import type { AccountAction, AccountType, LifecycleOperation, Step, StepValue } from "./catalog.js"
import { type Issue, InvalidState, Unprocessable } from "./errors.js"
import { checkFields, checkValue, plainValue, textProblem, type FieldValue, type Fields } from "./fields.js"
import { statusFor, transition } from "./lifecycle.js"

export type Parameters = Readonly<Record<string, unknown>>

/** Checks parameters against the action's schema; answers them as plain values. */
export const validateParameters = (
  action: Pick<AccountAction, "name" | "parameters">,
  input: Parameters
): Either.Either<Parameters, Unprocessable> =>
  checkFields(action.parameters, input, ["parameters"], "all").pipe(
    Either.map((typed) => Object.fromEntries(Object.entries(typed).map(([k, v]) => [k, plainValue(v)]))),
    Either.mapLeft((issues) => invalid(`invalid parameters for action "${action.name}"`, issues))
  )

const invalid = (what: string, issues: ReadonlyArray<Issue>) => Unprocessable.fromIssues(issues, what)

export interface EmittedEvent {
  readonly event: string
  readonly data: Readonly<Record<string, unknown>>
}

export interface Outcome {
  readonly account: Account
  readonly events: ReadonlyArray<EmittedEvent>
}

const MAX_TAGS = 100
/**
 * More entries than this is refused before any is looked at: repeats of a tag are allowed (they
 * collapse), but not without bound. 110,000 tags once took 10 s of event loop to refuse.
 */
const MAX_TAG_ENTRIES = 10 * MAX_TAGS
/** Enough problems to fix at once; the rest are not listed. */
const MAX_TAG_ISSUES = 20

/**
 * Tags as stored: trimmed, unique, in first-seen order; each checked. Linear in the input.
 * `at` names the list in a refusal (`add[2]: expected a tag …`).
 */
export const normalizeTags = (tags: ReadonlyArray<unknown>, at: ReadonlyArray<string> = ["tags"]): Either.Either<ReadonlyArray<string>, Unprocessable> => {
  if (tags.length > MAX_TAG_ENTRIES) {
    return Either.left(invalid("invalid tags", [{ path: at, message: `an account holds at most ${MAX_TAGS} tags; got a list of ${tags.length}` }]))
  }
  const issues: Array<Issue> = []
  const out = new Set<string>()
  const isTag = Schema.is(Tag)
  for (let index = 0; index < tags.length && issues.length < MAX_TAG_ISSUES; index++) {
    const tag = tags[index]
    const trimmed = typeof tag === "string" ? tag.trim() : tag
    const problem = typeof trimmed === "string" ? textProblem(trimmed, 100) : undefined
    if (problem) {
      issues.push({ path: [...at, index], message: `tag ${problem}` })
    } else if (!isTag(trimmed)) {
      issues.push({ path: [...at, index], message: `expected a tag (1–100 characters, no commas or control characters), got ${JSON.stringify(tag)}` })
    } else out.add(trimmed)
  }
  if (out.size > MAX_TAGS) issues.push({ path: at, message: `an account holds at most ${MAX_TAGS} tags` })
  return issues.length > 0 ? Either.left(invalid("invalid tags", issues)) : Either.right([...out])
}

/**
 * The tags after adding and removing some: removals first, additions appended in order. A tag
 * named on both sides is refused rather than guessed at. `names` are the two lists' names in a
 * refusal (`add[2]: …`; an action's tag step has one list, `tags`).
 */
export const changedTags = (
  current: ReadonlyArray<string>,
  changes: { readonly add?: ReadonlyArray<unknown> | undefined; readonly remove?: ReadonlyArray<unknown> | undefined },
  names: { readonly add: string; readonly remove: string } = { add: "add", remove: "remove" }
): Either.Either<ReadonlyArray<string>, Unprocessable> =>
  Either.all([normalizeTags(changes.add ?? [], [names.add]), normalizeTags(changes.remove ?? [], [names.remove])]).pipe(
    Either.flatMap(([add, remove]) => {
      const both = add.filter((t) => remove.includes(t))
      // At the removal's entry as given (before trimming and duplicates collapse).
      const given = (t: string) => (changes.remove ?? []).findIndex((r) => typeof r === "string" && r.trim() === t)
      return both.length > 0
        ? Either.left(invalid("invalid tags", both.map((t) => ({ path: [names.remove, given(t)], message: `tag ${JSON.stringify(t)} is both added and removed` }))))
        : normalizeTags([...current.filter((t) => !remove.includes(t)), ...add])
    })
  )

/**
 * A new version of the account: bumps version and updated-at. Every change passed in was checked
 * by the engine already, so the constructor skips re-validating the whole account (a hot path).
 */
export const revise = (account: Account, changes: Partial<Pick<Account, "status" | "fields" | "tags" | "referenceId" | "redactedAt" | "consolidatedInto">>, now: Date): Account =>
  new Account({ ...account, ...changes, version: account.version + 1, updatedAt: now }, true)

export const applyLifecycle = (
  type: AccountType,
  account: Account,
  operation: LifecycleOperation,
  now: Date
): Either.Either<Account, InvalidState> =>
  transition(type, account, operation).pipe(Either.map((state) => revise(account, { status: statusFor(type, state) }, now)))

const resolve = (value: StepValue, params: Parameters): unknown =>
  value !== null && typeof value === "object" ? params[value.param] : value

const applyStep = (
  type: AccountType,
  state: Outcome,
  step: Step,
  params: Parameters,
  now: Date
): Either.Either<Outcome, InvalidState | Unprocessable> => {
  const { account } = state
  switch (step.type) {
    case "set-status": {
      const status = resolve(step.status, params)
      if (typeof status !== "string" || !type.statuses.includes(status)) {
        return Either.left(invalid("cannot set status", [{ path: ["status"], message: `expected one of ${type.statuses.join(", ")}; got ${JSON.stringify(status)}` }]))
      }
      return Either.right({ ...state, account: revise(account, { status }, now) })
    }
    case "set-fields": {
      if (account.redactedAt !== null) {
        return Either.left(new InvalidState({ currentStatus: account.status, message: `account ${account.id} was redacted; its fields can no longer be set` }))
      }
      const patch: Record<string, FieldValue> = {}
      const issues: Array<Issue> = []
      for (const [key, value] of Object.entries(step.fields)) {
        const schema = type.fields.find((f) => f.key === key)
        if (!schema) {
          issues.push({ path: ["fields", key], message: `not a field of ${type.name}` })
          continue
        }
        const checked = checkValue(schema, resolve(value, params), ["fields", key])
        if (Either.isLeft(checked)) issues.push(...checked.left)
        else patch[key] = checked.right
      }
      if (issues.length > 0) return Either.left(invalid("cannot set fields", issues))
      return Either.right({ ...state, account: revise(account, { fields: { ...account.fields, ...patch } }, now) })
    }
    case "add-tags":
    case "remove-tags": {
      const tags = step.tags.map((t) => resolve(t, params))
      return changedTags(account.tags, step.type === "add-tags" ? { add: tags } : { remove: tags }, { add: "tags", remove: "tags" }).pipe(
        Either.map((next) => ({ ...state, account: revise(account, { tags: next }, now) }))
      )
    }
    case "lifecycle":
      return applyLifecycle(type, account, step.operation, now).pipe(Either.map((next) => ({ ...state, account: next })))
    case "emit-event": {
      const data = Object.fromEntries(Object.entries(step.data ?? {}).map(([k, v]) => [k, resolve(v, params)]))
      return Either.right({ ...state, events: [...state.events, { event: step.event, data: { ...data, "account-id": account.id } }] })
    }
  }
}

/**
 * Runs every step in order over the account; the first failing step fails the whole action and
 * nothing is applied. The result counts as one new version, whatever the number of steps.
 */
export const runSteps = (
  type: AccountType,
  account: Account,
  action: Pick<AccountAction, "steps">,
  params: Parameters,
  now: Date
): Either.Either<Outcome, InvalidState | Unprocessable> => {
  let state: Outcome = { account, events: [] }
  for (const step of action.steps) {
    const next = applyStep(type, state, step, params, now)
    if (Either.isLeft(next)) return next
    state = next.right
  }
  return Either.right({ ...state, account: new Account({ ...state.account, version: account.version + 1, updatedAt: now }, true) })
}

/** Fields from user input checked against the type (create: all; update: only those given). */
export const checkAccountFields = (
  type: AccountType,
  input: Readonly<Record<string, unknown>>,
  mode: "all" | "patch"
): Either.Either<Fields, Unprocessable> =>
  checkFields(type.fields, input, ["fields"], mode).pipe(Either.mapLeft((issues) => invalid(`invalid fields for ${type.name}`, issues)))
