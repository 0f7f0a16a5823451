/**
 * The Accounts port on @effect/sql. Every mutation runs in one transaction that writes the
 * account, the run record, the audit entry and the idempotency record together, or nothing.
 * Writes are guarded by the row's version, so a concurrent change is a Conflict (or, when the
 * caller did not pin a version, a transparent re-read and retry), never a lost update.
 */
import {
  Account,
  type AccountAction,
  type AccountRef,
  Accounts,
  type AccountsError,
  type AccountsService,
  type AccountType,
  ActionRun,
  ActionRunId,
  type Actor,
  applyLifecycle,
  changedTags,
  checkAccountFields,
  checkIdempotencyKey,
  decideIdempotency,
  IDEMPOTENCY_TTL_MS,
  keyInFlight,
  requestFingerprint,
  Conflict,
  type Unavailable,
  type EmittedEvent,
  InvalidRequest,
  InvalidState,
  isEmptyValue,
  mergeFieldsPatch,
  type Invocation,
  type ListAccountsQuery,
  type ListRunsQuery,
  NotFound,
  normalizeTags,
  PAGE_SIZE_DEFAULT,
  PAGE_SIZE_MAX,
  type Page,
  type PageQuery,
  type Parameters,
  type Principal,
  redactFields,
  ReferenceId,
  requireScope,
  RetryPolicy,
  revise,
  runSteps,
  type RunResult,
  type Scope,
  type TagChanges,
  Unprocessable,
  validateParameters,
  AccountId,
  AccountTypeId,
  AccountActionId
} from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import { Clock, Data, Effect, Either, Layer, Schema } from "effect"
import { type AccountRow, type DefinitionRow, type RunRow, toAccount, toAction, toRun, toType } from "./rows.js"
import { eraseAccountTraces, scrubText } from "./redaction.js"
import { fromSqlError, isUniqueViolation } from "./sql-errors.js"

/** The row changed between our read and our write; re-read and try again. */
class StaleRead extends Data.TaggedError("StaleRead")<{ readonly accountId: string }> {}
/** Another request with the same idempotency key committed first; replay its result. */
class KeyRace extends Data.TaggedError("KeyRace") {}

const RunResultSchema = Schema.Struct({ account: Account, run: ActionRun })

interface Operation<A, I> {
  readonly name: string
  readonly scope: Scope
  /** What the idempotency hash covers: the operation's target and inputs. */
  readonly request: unknown
  readonly result: Schema.Schema<A, I>
  readonly work: (now: Date) => Effect.Effect<A, AccountsError | StaleRead | SqlError>
}

const describeDoing = (name: string) => name.replace(/-/g, " ")

export const makeSqlAccounts = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const retryPolicy = yield* RetryPolicy

  const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))
  /** Database failures as domain errors (busy → Unavailable, constraint → Conflict). */
  const db = <A, E>(effect: Effect.Effect<A, E | SqlError>): Effect.Effect<A, Exclude<E, SqlError> | Conflict | Unavailable> =>
    Effect.catchIf(effect, (e): e is SqlError => (e as { _tag?: unknown })._tag === "SqlError", (e) => Effect.fail(fromSqlError(e)))

  // ---- reads ---------------------------------------------------------------------------------

  const accountSelect = sql.literal("SELECT a.*, t.name AS type_name FROM accounts a JOIN account_types t ON t.id = a.account_type_id")
  // For changes: the account and its type's definition in one round trip.
  const accountWithTypeSelect = sql.literal("SELECT a.*, t.name AS type_name, t.definition FROM accounts a JOIN account_types t ON t.id = a.account_type_id")
  // On Postgres, lock the row for the transaction so concurrent writers queue rather than race
  // on the version (SQLite already admits one writer at a time).
  const lockForChange = sql.onDialectOrElse({ pg: () => sql.literal(" FOR UPDATE OF a"), orElse: () => sql.literal("") })

  const notFound = (ref: AccountRef) =>
    "id" in ref
      ? NotFound.of("account", ref.id)
      : new NotFound({ entity: "account", ref: ref.referenceId, message: `no account with reference id ${JSON.stringify(ref.referenceId)}` })

  const findAccount = (ref: AccountRef) =>
    Effect.flatMap(
      "id" in ref
        ? sql<AccountRow>`${accountSelect} WHERE a.id = ${ref.id}`
        : sql<AccountRow>`${accountSelect} WHERE a.reference_id = ${ref.referenceId}`,
      (rows) => (rows[0] ? Effect.succeed(toAccount(rows[0])) : Effect.fail(notFound(ref)))
    )

  /** A catalog entry by id (when the text looks like one) or by name. */
  const findDefinition =
    <A>(table: "account_types" | "account_actions", entity: string, isId: (s: string) => boolean, decode: (row: DefinitionRow) => A) =>
    (idOrName: string) =>
      Effect.flatMap(
        sql<DefinitionRow>`SELECT definition FROM ${sql(table)} WHERE ${sql(isId(idOrName) ? "id" : "name")} = ${idOrName}`,
        (rows) => (rows[0] ? Effect.succeed(decode(rows[0])) : Effect.fail(NotFound.of(entity, idOrName)))
      )
  const findType = findDefinition("account_types", "account type", AccountTypeId.is, toType)
  const findAction = findDefinition("account_actions", "account action", AccountActionId.is, toAction)

  const pageSize = (query: PageQuery) =>
    query.size === undefined
      ? Effect.succeed(PAGE_SIZE_DEFAULT)
      : Number.isInteger(query.size) && query.size >= 1 && query.size <= PAGE_SIZE_MAX
        ? Effect.succeed(query.size)
        : Effect.fail(new InvalidRequest({ message: `page size must be an integer from 1 to ${PAGE_SIZE_MAX}, got ${query.size}`, issues: [{ path: ["page", "size"], message: `expected 1–${PAGE_SIZE_MAX}` }] }))

  /**
   * Cursor pagination, newest first. A cursor is the id of the item it stands next to (as in
   * Persona); `seq` gives the stable order. Fetches one extra row to know whether more follow.
   */
  const paginate = <Row extends { readonly seq: number; readonly id: string }>(
    query: PageQuery,
    seqOf: (id: string) => Effect.Effect<ReadonlyArray<{ readonly seq: number }>, SqlError>,
    fetch: (cursor: { readonly op: "<" | ">"; readonly seq: number } | undefined, order: "DESC" | "ASC", limit: number) => Effect.Effect<ReadonlyArray<Row>, SqlError>
  ): Effect.Effect<{ rows: ReadonlyArray<Row>; next: string | null; prev: string | null }, AccountsError | SqlError> =>
    Effect.gen(function* () {
      if (query.after !== undefined && query.before !== undefined) {
        return yield* new InvalidRequest({ message: "give page[after] or page[before], not both", issues: [{ path: ["page"], message: "after and before are exclusive" }] })
      }
      const size = yield* pageSize(query)
      const cursor = query.after ?? query.before
      let cursorSeq: number | undefined
      if (cursor !== undefined) {
        const found = yield* seqOf(cursor)
        if (!found[0]) {
          const side = query.after !== undefined ? "after" : "before"
          return yield* new InvalidRequest({ message: `page[${side}]: no item ${JSON.stringify(cursor.slice(0, 60))} to page from`, issues: [{ path: ["page", side], message: "unknown cursor" }] })
        }
        cursorSeq = Number(found[0].seq)
      }
      if (query.before !== undefined) {
        const rows = yield* fetch({ op: ">", seq: cursorSeq! }, "ASC", size + 1)
        const more = rows.length > size
        const items = rows.slice(0, size).reverse()
        return { rows: items, prev: more && items[0] ? items[0].id : null, next: items.length > 0 ? items[items.length - 1]!.id : query.before }
      }
      const rows = yield* fetch(cursorSeq !== undefined ? { op: "<", seq: cursorSeq } : undefined, "DESC", size + 1)
      const more = rows.length > size
      const items = rows.slice(0, size)
      return {
        rows: items,
        next: more ? items[items.length - 1]!.id : null,
        prev: query.after !== undefined ? (items[0]?.id ?? query.after) : null
      }
    })

  const list = (query: ListAccountsQuery): Effect.Effect<Page<Account>, AccountsError> =>
    Effect.gen(function* () {
      const conditions: Array<Fragment> = []
      if (query.accountType !== undefined) {
        const type = yield* findType(query.accountType)
        conditions.push(sql`a.account_type_id = ${type.id}`)
      }
      if (query.referenceId !== undefined) conditions.push(sql`a.reference_id = ${query.referenceId}`)
      if (query.status !== undefined) conditions.push(sql`a.status = ${query.status}`)
      if (query.tag !== undefined) conditions.push(sql`EXISTS (SELECT 1 FROM account_tags g WHERE g.account_id = a.id AND g.tag = ${query.tag})`)
      if (!query.includeArchived) conditions.push(sql`a.consolidated_into IS NULL`)
      const page = yield* paginate<AccountRow>(
        query,
        (id) => sql`SELECT seq FROM accounts WHERE id = ${id}`,
        (cursor, order, limit) => {
          const all = cursor ? [...conditions, sql`a.seq ${sql.literal(cursor.op)} ${cursor.seq}`] : conditions
          return sql<AccountRow>`${accountSelect} WHERE ${all.length > 0 ? sql.and(all) : sql.literal("1=1")} ORDER BY a.seq ${sql.literal(order)} LIMIT ${limit}`
        }
      )
      return { items: page.rows.map(toAccount), next: page.next, prev: page.prev }
    }).pipe(db)

  const listRuns = (query: ListRunsQuery): Effect.Effect<Page<ActionRun>, AccountsError> =>
    Effect.gen(function* () {
      const account = query.account ? yield* findAccount(query.account) : undefined
      const page = yield* paginate<RunRow>(
        query,
        (id) => sql`SELECT seq FROM action_runs WHERE id = ${id}`,
        (cursor, order, limit) => {
          const conditions: Array<Fragment> = [
            ...(account ? [sql`account_id = ${account.id}`] : []),
            ...(cursor ? [sql`seq ${sql.literal(cursor.op)} ${cursor.seq}`] : [])
          ]
          return sql<RunRow>`SELECT * FROM action_runs WHERE ${conditions.length > 0 ? sql.and(conditions) : sql.literal("1=1")} ORDER BY seq ${sql.literal(order)} LIMIT ${limit}`
        }
      )
      return { items: page.rows.map(toRun), next: page.next, prev: page.prev }
    }).pipe(db)

  // ---- writes --------------------------------------------------------------------------------

  const writeAccount = (before: Account | undefined, after: Account) =>
    Effect.gen(function* () {
      const values = {
        reference_id: after.referenceId,
        status: after.status,
        fields: JSON.stringify(after.fields),
        tags: JSON.stringify(after.tags),
        version: after.version,
        updated_at: after.updatedAt.toISOString(),
        redacted_at: after.redactedAt?.toISOString() ?? null,
        consolidated_into: after.consolidatedInto
      }
      if (before === undefined) {
        yield* sql`INSERT INTO accounts ${sql.insert({ id: after.id, account_type_id: after.accountTypeId, created_at: after.createdAt.toISOString(), ...values })}`
      } else {
        const updated = yield* sql<{ id: string }>`UPDATE accounts SET ${sql.update(values)} WHERE id = ${after.id} AND version = ${before.version} RETURNING id`
        if (updated.length === 0) return yield* new StaleRead({ accountId: after.id })
      }
      const oldTags = before?.tags ?? []
      const removed = oldTags.filter((t) => !after.tags.includes(t))
      const added = after.tags.filter((t) => !oldTags.includes(t))
      if (removed.length > 0) yield* sql`DELETE FROM account_tags WHERE account_id = ${after.id} AND ${sql.in("tag", removed)}`
      if (added.length > 0) yield* sql`INSERT INTO account_tags ${sql.insert(added.map((tag) => ({ account_id: after.id, tag })))}`
    })

  const writeAudit = (
    invocation: Invocation,
    entry: { operation: string; accountId: string | null; runId?: string | null; before?: string | null; after?: string | null; outcome: string },
    at: Date
  ) => {
    const actor = invocation.principal.actor
    return sql`INSERT INTO audit_log ${sql.insert({
      at: at.toISOString(),
      actor_kind: actor.kind,
      actor_id: actor.id,
      actor_name: actor.name,
      channel: invocation.channel,
      operation: entry.operation,
      account_id: entry.accountId,
      run_id: entry.runId ?? null,
      status_before: entry.before ?? null,
      status_after: entry.after ?? null,
      outcome: entry.outcome,
      reason: invocation.reason ?? null,
      request_id: invocation.requestId ?? null
    })}`
  }

  const writeRun = (run: ActionRun) =>
    Effect.gen(function* () {
      yield* sql`INSERT INTO action_runs ${sql.insert({
        id: run.id,
        account_id: run.accountId,
        action_id: run.actionId,
        action_name: run.actionName,
        status: run.status,
        actor: JSON.stringify(run.actor),
        parameters: JSON.stringify(run.parameters),
        status_before: run.statusBefore,
        status_after: run.statusAfter,
        events: JSON.stringify(run.events),
        error: run.error,
        idempotency_key: run.idempotencyKey,
        started_at: run.startedAt.toISOString(),
        finished_at: run.finishedAt.toISOString()
      })}`
      for (const event of run.events) {
        yield* sql`INSERT INTO outbox ${sql.insert({ run_id: run.id, event: event.event, data: JSON.stringify(event.data), created_at: run.finishedAt.toISOString() })}`
      }
    })

  /**
   * Idempotency records end with their 24 hours: expired ones (the store's and the HTTP layer's,
   * which share the database) are deleted by a keyed write, at most once a minute per store.
   */
  let lastPurgeMs = Number.NEGATIVE_INFINITY
  const purgeExpiredKeys = (at: Date) =>
    at.getTime() - lastPurgeMs < 60_000
      ? Effect.void
      : Effect.suspend(() => {
          lastPurgeMs = at.getTime()
          const now = at.toISOString()
          return Effect.zipRight(sql`DELETE FROM idempotency_keys WHERE expires_at <= ${now}`, sql`DELETE FROM http_idempotency WHERE expires_at <= ${now}`)
        })

  const authorize = (principal: Principal, scope: Scope, doing: string) => {
    const denied = requireScope(principal, scope, doing)
    return denied ? Effect.fail(denied) : Effect.void
  }

  /**
   * The frame of every mutation: permission, idempotency (replay or refuse), one transaction
   * with the audit entry, re-read on a stale version, retry of transient database errors, and
   * an audit entry for a refused attempt.
   */
  const mutate = <A, I>(invocation: Invocation, op: Operation<A, I>): Effect.Effect<A, AccountsError> => {
    const key = invocation.idempotencyKey
    const principalId = `${invocation.principal.actor.kind}:${invocation.principal.actor.id}`
    const fingerprint = key !== undefined ? requestFingerprint(op.name, op.request) : ""

    /** The recorded result, when the key's record answers this request (see core's idempotency rule). */
    const replay = Effect.gen(function* () {
      if (key === undefined) return undefined
      const rows = yield* sql<{ request_hash: string; response: string; created_at: string; expires_at: string }>`
        SELECT request_hash, response, created_at, expires_at FROM idempotency_keys
        WHERE principal_id = ${principalId} AND idempotency_key = ${key}`
      const row = rows[0]
      if (!row) return undefined
      const record = { fingerprint: row.request_hash, pending: false, createdAt: new Date(row.created_at), expiresAt: new Date(row.expires_at) }
      const decision = decideIdempotency(key, record, fingerprint, yield* now)
      switch (decision._tag) {
        case "Run":
          // Expired: its key is free again.
          yield* sql`DELETE FROM idempotency_keys WHERE principal_id = ${principalId} AND idempotency_key = ${key}`
          return undefined
        case "Refuse":
          return yield* decision.error
        case "Replay":
          return { value: yield* Schema.decodeUnknown(Schema.parseJson(op.result))(row.response).pipe(Effect.orDie) }
      }
    })

    const once = sql.withTransaction(
      Effect.gen(function* () {
        const replayed = yield* replay
        if (replayed) return { value: replayed.value, replayed: true }
        const at = yield* now
        const result = yield* op.work(at)
        if (key !== undefined) {
          const response = JSON.stringify(yield* Schema.encode(op.result)(result).pipe(Effect.orDie))
          yield* sql`INSERT INTO idempotency_keys ${sql.insert({
            principal_id: principalId,
            idempotency_key: key,
            operation: op.name,
            request_hash: fingerprint,
            response,
            created_at: at.toISOString(),
            expires_at: new Date(at.getTime() + IDEMPOTENCY_TTL_MS).toISOString()
          })}`.pipe(Effect.catchIf(isUniqueViolation, () => Effect.fail(new KeyRace())))
          yield* purgeExpiredKeys(at)
        }
        return { value: result, replayed: false }
      })
    )

    // A stale read without a pinned version is someone else's commit landing first: read again
    // (up to 5 times). A lost race on the idempotency key: go again once, which replays.
    // Plain recursion rather than Effect.retry: this is the hot path and usually never fails.
    const attempt = (staleReads: number, keyRaces: number): Effect.Effect<{ value: A; replayed: boolean }, AccountsError> =>
      once.pipe(
        Effect.catchTags({
          StaleRead: (e) =>
            invocation.expectedVersion === undefined && staleReads < 5
              ? attempt(staleReads + 1, keyRaces)
              : Effect.fail(new Conflict({ message: `account ${e.accountId} was changed by someone else (expected version ${invocation.expectedVersion ?? "current"}); read it again and retry` })),
          KeyRace: () =>
            keyRaces < 1
              ? attempt(staleReads, keyRaces + 1)
              : Effect.fail(keyInFlight(key!)),
          SqlError: (e) => Effect.fail(fromSqlError(e))
        })
      )

    const recordRefusal = (error: AccountsError) =>
      now.pipe(
        Effect.flatMap((at) => writeAudit(invocation, { operation: op.name, accountId: null, outcome: `refused:${error._tag}` }, at)),
        Effect.ignore
      )

    return Effect.gen(function* () {
      yield* authorize(invocation.principal, op.scope, describeDoing(op.name))
      if (key !== undefined) {
        const bad = checkIdempotencyKey(key)
        if (bad) return yield* bad
      }
      const { value, replayed } = yield* retryPolicy.retry(attempt(0, 0))
      if (replayed && invocation.onReplay) yield* invocation.onReplay
      return value
    }).pipe(Effect.tapError(recordRefusal))
  }

  /** Loads the account (and its type) for a change, and checks the pinned version, if any. */
  const loadForChange = (ref: AccountRef, invocation: Invocation, allow: { readonly archived?: boolean } = {}): Effect.Effect<{ account: Account; type: AccountType }, AccountsError | SqlError> =>
    Effect.flatMap(
      "id" in ref
        ? sql<AccountRow & DefinitionRow>`${accountWithTypeSelect} WHERE a.id = ${ref.id}${lockForChange}`
        : sql<AccountRow & DefinitionRow>`${accountWithTypeSelect} WHERE a.reference_id = ${ref.referenceId}${lockForChange}`,
      (rows): Effect.Effect<{ account: Account; type: AccountType }, AccountsError> => {
        if (!rows[0]) return Effect.fail(notFound(ref))
        const account = toAccount(rows[0])
        return invocation.expectedVersion !== undefined && invocation.expectedVersion !== account.version
          ? Effect.fail(new Conflict({ message: `account ${account.id} is at version ${account.version}, not ${invocation.expectedVersion}; read it again and retry` }))
          : account.consolidatedInto !== null && !allow.archived
            ? Effect.fail(new InvalidState({ currentStatus: account.status, message: `account ${account.id} was consolidated into ${account.consolidatedInto} and is archived; act on that account instead` }))
            : Effect.succeed({ account, type: toType(rows[0]) })
      }
    )

  const accountOp = (
    name: string,
    scope: Scope,
    ref: AccountRef,
    request: unknown,
    invocation: Invocation,
    change: (account: Account, type: AccountType, now: Date) => Effect.Effect<Account, AccountsError | SqlError>
  ) =>
    mutate(invocation, {
      name,
      scope,
      request: { ref, ...((request as object | undefined) ?? {}) },
      result: Account,
      work: (at) =>
        Effect.gen(function* () {
          const { account: before, type } = yield* loadForChange(ref, invocation)
          const after = yield* change(before, type, at)
          if (after === before) return before
          yield* writeAccount(before, after)
          yield* writeAudit(invocation, { operation: name, accountId: after.id, before: before.status, after: after.status, outcome: "ok" }, at)
          return after
        })
    })

  const fromEither = <A, E>(either: Either.Either<A, E>) => (Either.isRight(either) ? Effect.succeed(either.right) : Effect.fail(either.left))

  /** A lifecycle operation or an action: the account change plus its run record, together. */
  const runOp = (
    name: string,
    ref: AccountRef,
    request: unknown,
    invocation: Invocation,
    describe: { actionId: AccountActionId | null; actionName: string; parameters: Parameters },
    change: (account: Account, type: AccountType, now: Date) => Effect.Effect<{ account: Account; events: ReadonlyArray<EmittedEvent> }, AccountsError | SqlError>
  ) =>
    mutate<RunResult, typeof RunResultSchema.Encoded>(invocation, {
      name,
      scope: "account.action",
      request: { ref, ...(request as object) },
      result: RunResultSchema,
      work: (at) =>
        Effect.gen(function* () {
          const { account: before, type } = yield* loadForChange(ref, invocation)
          const outcome = yield* change(before, type, at)
          // Built from the validated account and parameters: no need to validate again.
          const run = new ActionRun({
            id: ActionRunId.make(),
            accountId: before.id,
            actionId: describe.actionId,
            actionName: describe.actionName,
            status: "succeeded",
            actor: invocation.principal.actor as Actor,
            parameters: describe.parameters,
            statusBefore: before.status,
            statusAfter: outcome.account.status,
            events: outcome.events.map((e) => ({ event: e.event, data: e.data })),
            error: null,
            idempotencyKey: invocation.idempotencyKey ?? null,
            startedAt: at,
            finishedAt: yield* now
          }, true)
          yield* writeAccount(before, outcome.account)
          yield* writeRun(run)
          yield* writeAudit(invocation, { operation: name, accountId: before.id, runId: run.id, before: before.status, after: outcome.account.status, outcome: "ok" }, at)
          return { account: outcome.account, run }
        })
    })

  /** Every tag change, whatever the number of tags: one version step, one audit entry, or nothing. */
  const changeTags = (name: string, ref: AccountRef, changes: TagChanges, invocation: Invocation) =>
    accountOp(name, "account.write", ref, { add: changes.add ?? [], remove: changes.remove ?? [] }, invocation, (account, _type, at) =>
      Effect.map(fromEither(changedTags(account.tags, changes)), (tags) =>
        tags.length === account.tags.length && tags.every((t, i) => t === account.tags[i]) ? account : revise(account, { tags }, at)
      )
    )

  /** Reads retried too: a busy database or a dropped connection is worth another try. */
  const read = <A>(effect: Effect.Effect<A, AccountsError>) => retryPolicy.retry(effect)

  const service: AccountsService = {
    list: (query) => read(list(query)),
    get: (ref) => read(findAccount(ref).pipe(db)),
    listTypes: () => read(db(sql<DefinitionRow>`SELECT definition FROM account_types ORDER BY name`.pipe(Effect.map((rows) => rows.map(toType))))),
    getType: (idOrName) => read(findType(idOrName).pipe(db)),
    listActions: (query) =>
      read(Effect.gen(function* () {
        const type = query?.accountType !== undefined ? yield* findType(query.accountType) : undefined
        const rows = type
          ? yield* sql<DefinitionRow>`SELECT definition FROM account_actions WHERE account_type_id = ${type.id} ORDER BY name`
          : yield* sql<DefinitionRow>`SELECT definition FROM account_actions ORDER BY name`
        return rows.map(toAction)
      }).pipe(db)),
    getAction: (idOrName) => read(findAction(idOrName).pipe(db)),
    listRuns: (query) => read(listRuns(query)),
    getRun: (id) =>
      read(
        sql<RunRow>`SELECT * FROM action_runs WHERE id = ${id}`.pipe(
          db,
          Effect.flatMap((rows) => (rows[0] ? Effect.succeed(toRun(rows[0])) : Effect.fail(NotFound.of("workflow run", id))))
        )
      ),

    create: (input, invocation) =>
      mutate(invocation, {
        name: "create",
        scope: "account.write",
        request: input,
        result: Account,
        work: (at) =>
          Effect.gen(function* () {
            const type = yield* findType(input.accountType)
            if (input.referenceId !== undefined && input.referenceId !== null && !Schema.is(ReferenceId)(input.referenceId)) {
              return yield* new Unprocessable({ message: "reference-id: expected 1–255 characters without spaces or control characters", issues: [{ path: ["reference-id"], message: "invalid reference id" }] })
            }
            const status = input.status ?? type.defaultStatus
            if (!type.statuses.includes(status)) {
              return yield* new Unprocessable({ message: `status: expected one of ${type.statuses.join(", ")}; got ${JSON.stringify(status)}`, issues: [{ path: ["status"], message: "not a status of this type" }] })
            }
            const fields = yield* fromEither(checkAccountFields(type, input.fields ?? {}, "all"))
            const tags = yield* fromEither(normalizeTags(input.tags ?? []))
            if (input.referenceId) {
              const taken = yield* sql<{ id: string }>`SELECT id FROM accounts WHERE reference_id = ${input.referenceId}`
              if (taken[0]) return yield* new Conflict({ message: `an account with reference id ${JSON.stringify(input.referenceId)} already exists (${taken[0].id})` })
            }
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
            yield* writeAccount(undefined, account)
            yield* writeAudit(invocation, { operation: "create", accountId: account.id, after: status, outcome: "ok" }, at)
            return account
          })
      }),

    update: (ref, input, invocation) =>
      accountOp("update", "account.write", ref, input, invocation, (account, type, at) =>
        Effect.gen(function* () {
          if (input.fields !== undefined && Object.keys(input.fields).length > 0 && account.redactedAt !== null) {
            return yield* new InvalidState({ currentStatus: account.status, message: `account ${account.id} was redacted; its fields can no longer be set` })
          }
          // Merge patch within hash fields: only what the update names changes (see fields-merge.ts).
          const patch = yield* fromEither(checkAccountFields(type, mergeFieldsPatch(type.fields, account.fields, input.fields ?? {}), "patch"))
          let referenceId = account.referenceId
          if (input.referenceId !== undefined) {
            if (input.referenceId !== null && !Schema.is(ReferenceId)(input.referenceId)) {
              return yield* new Unprocessable({ message: "reference-id: expected 1–255 characters without spaces or control characters", issues: [{ path: ["reference-id"], message: "invalid reference id" }] })
            }
            if (input.referenceId !== null && input.referenceId !== account.referenceId) {
              const taken = yield* sql<{ id: string }>`SELECT id FROM accounts WHERE reference_id = ${input.referenceId}`
              if (taken[0]) return yield* new Conflict({ message: `an account with reference id ${JSON.stringify(input.referenceId)} already exists (${taken[0].id})` })
            }
            referenceId = input.referenceId
          }
          return revise(account, { fields: { ...account.fields, ...patch }, referenceId }, at)
        })
      ),

    redact: (ref, invocation) =>
      mutate(invocation, {
        name: "redact",
        scope: "account.redact",
        request: { ref },
        result: Account,
        work: (at) =>
          Effect.gen(function* () {
            // An archived (consolidated) source holds personal data too: it can be redacted.
            const { account: before } = yield* loadForChange(ref, invocation, { archived: true })
            // Redacting twice changes nothing and is not an error: the data is gone either way.
            if (before.redactedAt !== null) return before
            const after = revise(before, { fields: redactFields(before.fields), redactedAt: at }, at)
            yield* writeAccount(before, after)
            const personal = yield* eraseAccountTraces(sql, before, after)
            const reason = invocation.reason === undefined ? undefined : scrubText(invocation.reason, personal)
            yield* writeAudit({ ...invocation, reason }, { operation: "redact", accountId: after.id, before: before.status, after: after.status, outcome: "ok" }, at)
            return after
          })
      }),

    addTag: (ref, tag, invocation) => changeTags("add-tag", ref, { add: [tag] }, invocation),
    removeTag: (ref, tag, invocation) => changeTags("remove-tag", ref, { remove: [tag] }, invocation),
    changeTags: (ref, changes, invocation) => changeTags("change-tags", ref, changes, invocation),
    setTags: (ref, tags, invocation) =>
      accountOp("set-tags", "account.write", ref, { tags }, invocation, (account, _type, at) =>
        Effect.map(fromEither(normalizeTags(tags)), (next) => revise(account, { tags: next }, at))
      ),

    consolidate: (destination, sources, invocation) =>
      mutate(invocation, {
        name: "consolidate",
        scope: "account.write",
        request: { destination, sources },
        result: Account,
        work: (at) =>
          Effect.gen(function* () {
            if (sources.length === 0) {
              return yield* new Unprocessable({ message: "consolidate needs at least one source account", issues: [{ path: ["sources"], message: "empty" }] })
            }
            const { account: target } = yield* loadForChange(destination, invocation)
            if (target.redactedAt !== null) {
              return yield* new InvalidState({ currentStatus: target.status, message: `account ${target.id} was redacted; consolidating into it would give it personal data again` })
            }
            let merged = target
            const seen = new Set<string>([target.id])
            for (const ref of sources) {
              const source = yield* findAccount(ref)
              if (seen.has(source.id)) {
                return yield* new Unprocessable({ message: `account ${source.id} is named twice, or as both source and destination`, issues: [{ path: ["sources"], message: "duplicate account" }] })
              }
              seen.add(source.id)
              if (source.consolidatedInto !== null) {
                return yield* new InvalidState({ currentStatus: source.status, message: `account ${source.id} was already consolidated into ${source.consolidatedInto}` })
              }
              if (source.accountTypeId !== target.accountTypeId) {
                return yield* new Unprocessable({ message: `account ${source.id} is a ${source.accountTypeName}, not a ${target.accountTypeName}; only accounts of one type consolidate`, issues: [{ path: ["sources"], message: "type mismatch" }] })
              }
              // The destination keeps its own values; sources only fill what it lacks.
              // A redacted source has no personal data left to give, and must not seem to.
              const fields = { ...merged.fields }
              if (source.redactedAt === null) {
                for (const [k, v] of Object.entries(source.fields)) if (fields[k] === undefined || isEmptyValue(fields[k]!)) fields[k] = v
              }
              const tags = yield* fromEither(normalizeTags([...merged.tags, ...source.tags]))
              merged = new Account({ ...merged, fields, tags }, true)
              yield* writeAccount(source, revise(source, { consolidatedInto: target.id }, at))
              yield* writeAudit(invocation, { operation: "consolidate-source", accountId: source.id, before: source.status, after: source.status, outcome: "ok" }, at)
            }
            const after = revise(target, { fields: merged.fields, tags: merged.tags }, at)
            yield* writeAccount(target, after)
            yield* writeAudit(invocation, { operation: "consolidate", accountId: after.id, before: target.status, after: after.status, outcome: "ok" }, at)
            return after
          })
      }),

    lifecycle: (ref, operation, invocation) =>
      runOp(operation, ref, { operation }, invocation, { actionId: null, actionName: operation, parameters: {} }, (account, type, at) =>
        Effect.map(fromEither(applyLifecycle(type, account, operation, at)), (next) => ({ account: next, events: [] }))
      ),

    runAction: (ref, actionRef, parameters, invocation) =>
      Effect.gen(function* () {
        const action: AccountAction = yield* findAction(actionRef).pipe(db)
        const params = yield* fromEither(validateParameters(action, parameters))
        return yield* runOp("run-action", ref, { action: action.id, parameters }, invocation, { actionId: action.id, actionName: action.name, parameters: params }, (account, type, at) =>
          account.accountTypeId !== action.accountTypeId
            ? Effect.fail(new Unprocessable({ message: `action "${action.name}" is for another account type than ${account.accountTypeName}`, issues: [{ path: ["account-action-id"], message: "wrong account type" }] }))
            : fromEither(runSteps(type, account, action, params, at))
        )
      })
  }
  return service
})

export const SqlAccountsLive: Layer.Layer<Accounts, never, SqlClient.SqlClient | RetryPolicy> = Layer.effect(Accounts, makeSqlAccounts)
