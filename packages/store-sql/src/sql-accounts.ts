/**
 * The Accounts port on @effect/sql: the operations. Each is work inside the mutation frame
 * (mutation-frame.ts: permission, idempotency, one transaction, stale-read retry, refusal
 * audit) over the accounts repository (accounts-repository.ts) and the run log (run-log.ts), so
 * a change, its run record, its audit entry and its idempotency record commit together or not
 * at all. Writes are guarded by the row's version: a concurrent change is a Conflict (or, when
 * the caller did not pin a version, a transparent re-read and retry), never a lost update.
 */
import {
  Account,
  AccountId,
  type AccountActionId,
  type AccountRef,
  Accounts,
  type AccountsError,
  type AccountsOperation,
  type AccountsService,
  type AccountType,
  accountChangeEvents,
  ActionRun,
  ActionRunId,
  actingActors,
  applyLifecycle,
  changedTags,
  checkAccountFields,
  consolidatedSourceEvents,
  consolidationEvents,
  checkNewRelation,
  checkTargetId,
  type EmittedEvent,
  type Events,
  type InvalidRequest,
  InvalidState,
  NotFound,
  type Invocation,
  isEmptyValue,
  mergeFieldsPatch,
  mergeRelationTargets,
  normalizeTags,
  type Parameters,
  redactFields,
  ReferenceId,
  resolveSearch,
  type RelationChange,
  relationEvent,
  relationNotFound,
  relationSchemaFor,
  RetryPolicy,
  revise,
  runEvents,
  runSteps,
  type RunResult,
  type TagChanges,
  Unprocessable,
  validateParameters
} from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Either, Layer, Schema } from "effect"
import { AccountsRepository } from "./accounts-repository.js"
import { EventFeed, EventLog, SqlEventsLive } from "./event-log.js"
import { AccountImporter } from "./importer.js"
import { type Emit, MutationFrame, now } from "./mutation-frame.js"
import { eraseAccountTraces, scrubText } from "./redaction.js"
import { RelationsRepository } from "./relations-repository.js"
import { RunLog } from "./run-log.js"
import { db } from "./sql-errors.js"
import { searchPage } from "./search.js"

const RunResultSchema = Schema.Struct({ account: Account, run: ActionRun })

const fromEither = <A, E>(either: Either.Either<A, E>) => (Either.isRight(either) ? Effect.succeed(either.right) : Effect.fail(either.left))

const invalidReferenceId = () => Unprocessable.fromIssues([{ path: ["reference-id"], message: "expected 1–255 characters without spaces or control characters" }])

const notAStatus = (type: AccountType, status: string) => Unprocessable.fromIssues([{ path: ["status"], message: `expected one of ${type.statuses.join(", ")}; got ${JSON.stringify(status)}` }])

export const makeSqlAccounts = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const retryPolicy = yield* RetryPolicy
  const accounts = yield* AccountsRepository
  const runLog = yield* RunLog
  const relations = yield* RelationsRepository
  const importer = yield* AccountImporter
  const { mutate } = yield* MutationFrame

  /** A change of one account: loaded for change, changed, written with its audit entry. */
  /** The account a refused change names, for its audit entry: its id, when it exists. */
  const accountIdOf = (ref: AccountRef) => accounts.findAccount(ref).pipe(Effect.map((account): string | null => account.id), Effect.orElseSucceed(() => null))

  const accountOp = (
    name: string,
    operation: AccountsOperation,
    ref: AccountRef,
    request: object,
    invocation: Invocation,
    change: (account: Account, type: AccountType, now: Date, emit: Emit) => Effect.Effect<Account, AccountsError | SqlError>
  ) =>
    mutate(invocation, {
      name,
      operation,
      request: { ref, ...request },
      account: accountIdOf(ref),
      result: Account,
      work: (at, emit) =>
        Effect.gen(function* () {
          const { account: before, type } = yield* accounts.loadForChange(ref, invocation.expectedVersion)
          const after = yield* change(before, type, at, emit)
          if (after === before) return before
          yield* accounts.writeAccount(before, after, type)
          yield* emit(accountChangeEvents(before, after))
          yield* runLog.writeAudit(invocation, { operation: name, accountId: after.id, before: before.status, after: after.status, outcome: "ok" }, at)
          return after
        })
    })

  interface RunPlan {
    readonly describe: { readonly actionId: AccountActionId | null; readonly actionName: string; readonly parameters: Parameters }
    readonly change: (account: Account, type: AccountType, now: Date) => Effect.Effect<{ account: Account; events: ReadonlyArray<EmittedEvent> }, AccountsError | SqlError>
  }

  /** A lifecycle operation or an action: the account change plus its run record, together. */
  const runOp = (
    name: string,
    operation: AccountsOperation,
    doing: string,
    ref: AccountRef,
    request: object,
    invocation: Invocation,
    /**
     * What runs and how it changes the account, decided inside the frame (after the policy,
     * under the key): an unknown action or invalid parameters are the key's recorded refusal;
     * with the account (and its type) loaded for the change.
     */
    load: Effect.Effect<{ readonly plan: RunPlan; readonly account: Account; readonly type: AccountType }, AccountsError | SqlError>
  ) =>
    mutate<RunResult, typeof RunResultSchema.Encoded>(invocation, {
      name,
      operation,
      doing,
      request: { ref, ...request },
      account: accountIdOf(ref),
      result: RunResultSchema,
      work: (at, emit) =>
        Effect.gen(function* () {
          const { plan: { describe, change }, account: before, type } = yield* load
          const outcome = yield* change(before, type, at)
          const { actor, via } = actingActors(invocation)
          // Built from the validated account and parameters: no need to validate again.
          const run = new ActionRun({
            id: ActionRunId.make(),
            accountId: before.id,
            actionId: describe.actionId,
            actionName: describe.actionName,
            status: "succeeded",
            actor,
            via,
            parameters: describe.parameters,
            statusBefore: before.status,
            statusAfter: outcome.account.status,
            events: outcome.events.map((e) => ({ event: e.event, data: e.data })),
            error: null,
            idempotencyKey: invocation.idempotencyKey ?? null,
            startedAt: at,
            finishedAt: yield* now
          }, true)
          yield* accounts.writeAccount(before, outcome.account, type)
          yield* runLog.writeRun(run)
          yield* emit(runEvents(run, before, outcome.account, outcome.events))
          yield* runLog.writeAudit(invocation, { operation: name, accountId: before.id, runId: run.id, before: before.status, after: outcome.account.status, outcome: "ok" }, at)
          return { account: outcome.account, run }
        })
    })

  /** Every tag change, whatever the number of tags: one version step, one audit entry, or nothing. */
  const changeTags = (name: string, operation: AccountsOperation, ref: AccountRef, changes: TagChanges, invocation: Invocation) =>
    accountOp(name, operation, ref, { add: changes.add ?? [], remove: changes.remove ?? [] }, invocation, (account, _type, at) =>
      Effect.map(fromEither(changedTags(account.tags, changes)), (tags) =>
        tags.length === account.tags.length && tags.every((t, i) => t === account.tags[i]) ? account : revise(account, { tags }, at)
      )
    )

  /**
   * A relation added or removed (named `add-relation` / `remove-relation` in the audit trail and
   * the idempotency record): a change of the source account, so it takes a version step and an
   * audit entry like any other; relating twice, like tagging twice, changes nothing.
   */
  const relationOp = (name: "add-relation" | "remove-relation", ref: AccountRef, relation: RelationChange, invocation: Invocation) =>
    accountOp(name, name === "add-relation" ? "addRelation" : "removeRelation", ref, { key: relation.key, target: relation.target }, invocation, (account, type, at, emit) =>
      Effect.gen(function* () {
        const schema = yield* fromEither(relationSchemaFor(type, relation.key))
        if ("id" in relation.target) yield* fromEither(checkTargetId(relation.target.id))
        const target = yield* accounts.findAccount(relation.target).pipe(
          Effect.catchTag("NotFound", (e) =>
            Effect.fail(new Unprocessable({ message: `target-object-id: ${e.message}`, issues: [{ path: ["meta", "target-object-id"], message: "no such account" }] }))
          )
        )
        const current = yield* relations.targets(account.id, schema.key)
        if (name === "remove-relation") {
          if (!(yield* relations.remove(account.id, schema.key, target.id))) return yield* relationNotFound(account.id, schema.key, target.id)
        } else {
          if ((yield* fromEither(checkNewRelation(schema, account, target, current))) === "unchanged") return account
          yield* relations.insert(account.id, schema.key, [target.id], at)
        }
        const after = revise(account, {}, at)
        yield* emit([relationEvent(name === "add-relation" ? "added" : "removed", after, { key: schema.key, targetAccountId: target.id })])
        return after
      })
    )

  /** Reads retried too: a busy database or a dropped connection is worth another try. */
  const read = <A, E>(effect: Effect.Effect<A, E | SqlError>) => retryPolicy.retry(db(effect))

  const service: AccountsService = {
    list: (query) => read(accounts.list(query)),
    search: (query) =>
      read(Effect.gen(function* () {
        const resolved = yield* fromEither(resolveSearch(query, yield* accounts.listTypes))
        return yield* searchPage(sql, query, resolved)
      })),
    get: (ref) => read(accounts.findAccount(ref)),
    listTypes: () => read(accounts.listTypes),
    getType: (idOrName) => read(accounts.findType(idOrName)),
    listActions: (query) =>
      read(Effect.gen(function* () {
        const type = query?.accountType !== undefined ? yield* accounts.findType(query.accountType) : undefined
        return yield* accounts.listActions(type?.id)
      })),
    getAction: (idOrName) => read(accounts.findAction(idOrName)),
    listRuns: (query) =>
      read(Effect.gen(function* () {
        const account = query.account ? yield* accounts.findAccount(query.account) : undefined
        return yield* runLog.listRuns(query, account?.id)
      })),
    getRun: (id) => read(runLog.getRun(id)),
    listRelations: (ref, query) =>
      read(Effect.gen(function* () {
        const account = yield* accounts.findAccount(ref)
        const type = yield* accounts.findType(account.accountTypeId)
        yield* fromEither(relationSchemaFor(type, query.key))
        return yield* relations.list(account.id, query)
      })),
    importAccounts: importer.start,
    getImporter: importer.get,
    listImporters: importer.list,
    listImportErrors: importer.errors,
    addRelation: (ref, relation, invocation) => relationOp("add-relation", ref, relation, invocation),
    removeRelation: (ref, relation, invocation) => relationOp("remove-relation", ref, relation, invocation),

    create: (input, invocation) =>
      mutate(invocation, {
        name: "create",
        operation: "create",
        request: input,
        result: Account,
        work: (at, emit) =>
          Effect.gen(function* () {
            const type = yield* accounts.findType(input.accountType)
            if (input.referenceId !== undefined && input.referenceId !== null && !Schema.is(ReferenceId)(input.referenceId)) return yield* invalidReferenceId()
            const status = input.status ?? type.defaultStatus
            if (!type.statuses.includes(status)) return yield* notAStatus(type, status)
            const fields = yield* fromEither(checkAccountFields(type, input.fields ?? {}, "all"))
            const tags = yield* fromEither(normalizeTags(input.tags ?? []))
            if (input.referenceId) yield* accounts.claimReferenceId(input.referenceId)
            const account = Account.make({
              id: AccountId.make(),
              referenceId: input.referenceId ?? null,
              accountTypeId: type.id,
              accountTypeName: type.name,
              status,
              fields,
              tags,
              version: 1,
              createdAt: at,
              updatedAt: at,
              redactedAt: null,
              consolidatedInto: null
            })
            yield* accounts.writeAccount(undefined, account, type)
            yield* emit(accountChangeEvents(undefined, account))
            yield* runLog.writeAudit(invocation, { operation: "create", accountId: account.id, after: status, outcome: "ok" }, at)
            return account
          })
      }),

    update: (ref, input, invocation) =>
      accountOp("update", "update", ref, input, invocation, (account, type, at) =>
        Effect.gen(function* () {
          if (input.fields !== undefined && Object.keys(input.fields).length > 0 && account.redactedAt !== null) {
            return yield* new InvalidState({ currentStatus: account.status, message: `account ${account.id} was redacted; its fields can no longer be set` })
          }
          // Merge patch within hash fields: only what the update names changes (see fields-merge.ts).
          const patch = yield* fromEither(checkAccountFields(type, mergeFieldsPatch(type.fields, account.fields, input.fields ?? {}), "patch"))
          let referenceId = account.referenceId
          if (input.referenceId !== undefined) {
            if (input.referenceId !== null && !Schema.is(ReferenceId)(input.referenceId)) return yield* invalidReferenceId()
            if (input.referenceId !== null && input.referenceId !== account.referenceId) yield* accounts.claimReferenceId(input.referenceId)
            referenceId = input.referenceId
          }
          if (input.status !== undefined && !type.statuses.includes(input.status)) return yield* notAStatus(type, input.status)
          const tags = input.tags === undefined ? account.tags : yield* fromEither(normalizeTags(input.tags))
          return revise(account, { fields: { ...account.fields, ...patch }, referenceId, status: input.status ?? account.status, tags }, at)
        })
      ),

    redact: (ref, invocation) =>
      mutate(invocation, {
        name: "redact",
        operation: "redact",
        request: { ref },
        account: accountIdOf(ref),
        result: Account,
        work: (at, emit) =>
          Effect.gen(function* () {
            // An archived (consolidated) source holds personal data too: it can be redacted.
            const { account: before, type } = yield* accounts.loadForChange(ref, invocation.expectedVersion, { archived: true })
            // Redacting twice changes nothing and is not an error: the data is gone either way.
            if (before.redactedAt !== null) return before
            const after = revise(before, { fields: redactFields(before.fields), redactedAt: at }, at)
            yield* accounts.writeAccount(before, after, type)
            const personal = yield* eraseAccountTraces(sql, before, after)
            yield* emit(accountChangeEvents(before, after))
            const reason = invocation.reason === undefined ? undefined : scrubText(invocation.reason, personal)
            yield* runLog.writeAudit({ ...invocation, reason }, { operation: "redact", accountId: after.id, before: before.status, after: after.status, outcome: "ok" }, at)
            return after
          })
      }),

    addTag: (ref, tag, invocation) => changeTags("add-tag", "addTag", ref, { add: [tag] }, invocation),
    removeTag: (ref, tag, invocation) => changeTags("remove-tag", "removeTag", ref, { remove: [tag] }, invocation),
    changeTags: (ref, changes, invocation) => changeTags("change-tags", "changeTags", ref, changes, invocation),
    setTags: (ref, tags, invocation) =>
      accountOp("set-tags", "setTags", ref, { tags }, invocation, (account, _type, at) =>
        Effect.map(fromEither(normalizeTags(tags)), (next) => revise(account, { tags: next }, at))
      ),

    consolidate: (destination, sources, invocation) =>
      mutate(invocation, {
        name: "consolidate",
        operation: "consolidate",
        request: { destination, sources },
        account: accountIdOf(destination),
        result: Account,
        work: (at, emit) =>
          Effect.gen(function* () {
            if (sources.length === 0) {
              return yield* new Unprocessable({ message: "consolidate needs at least one source account", issues: [{ path: ["sources"], message: "empty" }] })
            }
            const { account: target, type } = yield* accounts.loadForChange(destination, invocation.expectedVersion)
            if (target.redactedAt !== null) {
              return yield* new InvalidState({ currentStatus: target.status, message: `account ${target.id} was redacted; consolidating into it would give it personal data again` })
            }
            let merged = target
            const seen = new Set<AccountId>([target.id])
            const sourceIds: Array<AccountId> = []
            const archivedSources: Array<Account> = []
            for (const ref of sources) {
              const source = yield* accounts.findAccount(ref)
              if (seen.has(source.id)) {
                return yield* new Unprocessable({ message: `account ${source.id} is named twice, or as both source and destination`, issues: [{ path: ["sources"], message: "duplicate account" }] })
              }
              seen.add(source.id)
              sourceIds.push(source.id)
              if (source.consolidatedInto !== null) {
                return yield* new InvalidState({ currentStatus: source.status, message: `account ${source.id} was already consolidated into ${source.consolidatedInto}` })
              }
              if (source.accountTypeId !== target.accountTypeId) {
                return yield* new Unprocessable({ message: `account ${source.id} is a ${source.accountTypeName}, not a ${target.accountTypeName}; only accounts of one type consolidate`, issues: [{ path: ["sources"], message: "type mismatch" }] })
              }
              // The destination keeps its own values; sources only fill what it lacks. A redacted
              // source has no personal data left to give, and must not seem to.
              const fields = { ...merged.fields }
              if (source.redactedAt === null) {
                for (const [k, v] of Object.entries(source.fields)) if (fields[k] === undefined || isEmptyValue(fields[k]!)) fields[k] = v
              }
              const tags = yield* fromEither(normalizeTags([...merged.tags, ...source.tags]))
              merged = new Account({ ...merged, fields, tags }, true)
              const archived = revise(source, { consolidatedInto: target.id }, at)
              // Of the destination's type (checked above), so its searchable fields.
              yield* accounts.writeAccount(source, archived, type)
              archivedSources.push(archived)
              yield* emit(consolidatedSourceEvents(archived, target.id))
              yield* runLog.writeAudit(invocation, { operation: "consolidate-source", accountId: source.id, before: source.status, after: source.status, outcome: "ok" }, at)
            }
            // Relations move to the destination too (see relations.ts for which survive).
            const ownRelations = yield* relations.allOf(target.id)
            const mergedRelations = new Map<string, ReadonlyArray<string>>(ownRelations)
            for (const sourceId of sourceIds) {
              for (const [key, targets] of yield* relations.allOf(sourceId)) {
                const schema = type.relations.find((r) => r.key === key)
                mergedRelations.set(key, mergeRelationTargets(schema, target.id, sourceIds, mergedRelations.get(key) ?? [], targets))
              }
            }
            const moves = yield* relations.consolidate(target.id, sourceIds, mergedRelations, at)
            const movesOf = (account: Account) =>
              moves.filter((m) => m.accountId === account.id).map((m) => relationEvent(m.change, account, { key: m.key, targetAccountId: m.targetId }))
            for (const source of archivedSources) yield* emit(movesOf(source))
            const after = revise(target, { fields: merged.fields, tags: merged.tags }, at)
            yield* accounts.writeAccount(target, after, type)
            yield* emit([...consolidationEvents(target, after, [...seen].filter((id) => id !== target.id)), ...movesOf(after)])
            yield* runLog.writeAudit(invocation, { operation: "consolidate", accountId: after.id, before: target.status, after: after.status, outcome: "ok" }, at)
            // Accounts whose relations named a source now name the destination: a change of
            // theirs too, with its version step, audit entry and relation events.
            const others = [...new Set(moves.map((m) => m.accountId))].filter((id) => !seen.has(id as AccountId))
            for (const id of others) {
              const { account: before, type: otherType } = yield* accounts.loadForChange({ id: id as AccountId }, undefined, { archived: true })
              const moved = revise(before, {}, at)
              yield* accounts.writeAccount(before, moved, otherType)
              yield* emit(movesOf(moved))
              yield* runLog.writeAudit(invocation, { operation: "consolidate-relations", accountId: moved.id, before: before.status, after: moved.status, outcome: "ok" }, at)
            }
            return after
          })
      }),

    lifecycle: (ref, operation, invocation) =>
      runOp(operation, "lifecycle", `${operation} accounts`, ref, { operation }, invocation, Effect.map(accounts.loadForChange(ref, invocation.expectedVersion), ({ account, type }) => ({
        plan: {
          describe: { actionId: null, actionName: operation, parameters: {} },
          change: (account: Account, type: AccountType, at: Date) => Effect.map(fromEither(applyLifecycle(type, account, operation, at)), (next) => ({ account: next, events: [] }))
        } satisfies RunPlan,
        account,
        type
      }))),

    runAction: (ref, actionRef, parameters, invocation) =>
      runOp("run-action", "runAction", "run account actions", ref, { action: actionRef, parameters }, invocation, Effect.gen(function* () {
        // One statement reads the account and the action. The refusals keep their order: an
        // unknown action, then invalid parameters, then the account's (unknown, moved version,
        // archived) — so without the account the action is looked up on its own first.
        const read = yield* accounts.readForRun(ref, actionRef)
        const action = read.action ?? (read.row ? yield* Effect.fail(NotFound.of("account action", actionRef)) : yield* accounts.findAction(actionRef))
        const params = yield* fromEither(validateParameters(action, parameters))
        const { account, type } = yield* accounts.checkForChange(ref, read.row, invocation.expectedVersion)
        const plan: RunPlan = {
          describe: { actionId: action.id, actionName: action.name, parameters: params },
          change: (account, type, at) =>
            account.accountTypeId !== action.accountTypeId
              ? Effect.fail(new Unprocessable({ message: `action "${action.name}" is for another account type than ${account.accountTypeName}`, issues: [{ path: ["account-action-id"], message: "wrong account type" }] }))
              : fromEither(runSteps(type, account, action, params, at))
        }
        return { plan, account, type }
      }))
  }
  return service
})

/**
 * The store's services, composed: the frame uses the run log for refusals and the event log for
 * each change's events; operations use the repositories, the run log and the frame; the importer
 * runs imports through the frame.
 */
const storeServices = AccountImporter.Default.pipe(
  Layer.provideMerge(MutationFrame.Default),
  Layer.provideMerge(Layer.mergeAll(AccountsRepository.Default, RelationsRepository.Default, RunLog.Default, EventLog.Default))
)

/** Accounts, and the events their changes write (the events API's reads, a dispatcher's feed). */
export const SqlAccountsLive: Layer.Layer<Accounts | Events | EventFeed, InvalidRequest, SqlClient.SqlClient | RetryPolicy> = Layer.merge(
  Layer.effect(Accounts, makeSqlAccounts),
  SqlEventsLive
).pipe(Layer.provide(storeServices))
