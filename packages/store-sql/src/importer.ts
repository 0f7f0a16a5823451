/**
 * Persona's account importer on the store. `start` checks the file as a whole and records the
 * importer (`pending`) through the mutation frame (permission, idempotency, audit); the rows are
 * then imported in the background, a chunk at a time: each chunk one transaction that writes
 * its new accounts (one multi-row INSERT each for accounts, tags and audit entries), its row
 * errors and the importer's counts, so the counts never claim more than what committed. A row
 * is idempotent by its reference id: one that is taken already is a duplicate and changes
 * nothing, so importing the same file again creates nothing twice.
 *
 * Imports survive the process: the store keeps the file (`importer_files`), and the importer row
 * the next row to import (moved in each chunk's transaction, so no row is counted twice) and
 * who asked, and a lease says
 * which process imports it. A process that resumes imports (the server: `ResumeInterruptedImports`)
 * takes over a pending import whose lease ran out — its process died, or stopped and let it go
 * — and continues from the next row. The file is cleared when the import ends.
 */
import {
  Account,
  accountChangeEvents,
  AccountId,
  Actor,
  Channel,
  type AccountsError,
  type AccountType,
  type ImportAccountsInput,
  Importer,
  ImporterId,
  type ImportRow,
  importRow,
  type ImportRowError,
  type Invocation,
  InvalidRequest,
  NotFound,
  type Page,
  Principal,
  type PageQuery,
  readImportFile,
  RetryPolicy,
  sha256Hex,
  Unprocessable
} from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Config, Context, Data, Duration, Effect, Either, FiberSet, Option, Schedule, Schema } from "effect"
import { AccountsRepository } from "./accounts-repository.js"
import { EventLog } from "./event-log.js"
import { MutationFrame, now } from "./mutation-frame.js"
import { pageSize, pageTable } from "./pages.js"
import { RunLog } from "./run-log.js"
import { writeNewSearchValues } from "./search.js"
import { fromSqlError } from "./sql-errors.js"

/** Rows per transaction: large enough to amortise a commit, small enough to keep others' writes waiting briefly. */
export const IMPORT_CHUNK_ROWS = 500

interface ImporterRow {
  readonly seq: number
  readonly id: string
  readonly status: string
  readonly account_type_id: string
  readonly row_count: number
  readonly successful_count: number
  readonly duplicate_count: number
  readonly error_count: number
  readonly created_at: string
  readonly updated_at: string
  readonly completed_at: string | null
}



/**
 * A pending importer whose counts have not moved for this long was interrupted (its process
 * stopped or lost the database): it is reported `errored`, so nobody waits for it forever.
 * Importing the same file again finishes the job (rows already imported are duplicates).
 */
export const IMPORT_STALLED_MS = 2 * 60 * 1000

/**
 * Whether this process takes over imports other processes left unfinished (the server does; a
 * CLI command, which ends soon, does not).
 */
export class ResumeInterruptedImports extends Context.Reference<ResumeInterruptedImports>()("@acct/store-sql/ResumeInterruptedImports", {
  defaultValue: () => false
}) {}

/**
 * How long a process's claim on a running import lasts unless a chunk renews it
 * (`ACCT_IMPORT_LEASE_MS`, default 10 s); a resuming process looks for expired claims every
 * half of it.
 */
const importLeaseMs = Config.integer("ACCT_IMPORT_LEASE_MS").pipe(
  Config.withDefault(10_000),
  Config.validate({ message: "ACCT_IMPORT_LEASE_MS: expected a whole number above 0", validation: (n) => n > 0 })
)

/** Who asked for an import, kept with it so a resumed import writes the same audit entries and events. */
const StoredInvocation = Schema.parseJson(
  Schema.Struct({
    principal: Principal,
    onBehalfOf: Schema.optional(Actor),
    channel: Channel,
    reason: Schema.optional(Schema.String),
    requestId: Schema.optional(Schema.String)
  })
)

const storedInvocation = (invocation: Invocation): string =>
  Schema.encodeSync(StoredInvocation)({
    principal: invocation.principal,
    channel: invocation.channel,
    ...(invocation.onBehalfOf !== undefined ? { onBehalfOf: invocation.onBehalfOf } : {}),
    ...(invocation.reason !== undefined ? { reason: invocation.reason } : {}),
    ...(invocation.requestId !== undefined ? { requestId: invocation.requestId } : {})
  })

/** This process's claim on an import was taken over (it stalled past its lease): it stops, and the other goes on. */
class LeaseLost extends Data.TaggedError("LeaseLost")<{ readonly importerId: string }> {}

/** Resumes after the I/O Node has waiting (a macrotask, unlike a fiber yield). */
const afterPendingIo = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

type ImportFile = Either.Either.Right<ReturnType<typeof readImportFile>>

const toImporter = (row: ImporterRow, nowMs: number): Importer =>
  new Importer(
    {
      id: row.id as ImporterId,
      status: row.status === "pending" && nowMs - Date.parse(row.updated_at) > IMPORT_STALLED_MS ? "errored" : (row.status as Importer["status"]),
      accountTypeId: row.account_type_id,
      rowCount: Number(row.row_count),
      successfulCount: Number(row.successful_count),
      duplicateCount: Number(row.duplicate_count),
      errorCount: Number(row.error_count),
      createdAt: new Date(row.created_at),
      completedAt: row.completed_at === null ? null : new Date(row.completed_at)
    },
    true
  )

/** A problem message without the value that caused it (`…, got "1999-13-01"`): the file may hold personal data. */
const withoutValue = (problem: string) => problem.replace(/[,;] got [\s\S]*$/, "")

export class AccountImporter extends Effect.Service<AccountImporter>()("@acct/store-sql/AccountImporter", {
  scoped: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const retryPolicy = yield* RetryPolicy
    const repository = yield* AccountsRepository
    const runLog = yield* RunLog
    const eventLog = yield* EventLog
    const { mutate } = yield* MutationFrame
    // Imports running in this process; interrupted when the store closes (see README: Import).
    const running = yield* FiberSet.make()
    const leaseMs = yield* Effect.orDie(importLeaseMs)
    // One claim per run of an import (a process that stalled past its lease and goes on finds
    // its claim gone and stops), and the imports this process runs, which it never takes over.
    // The file is kept in its own table (never in the importers row, which every chunk rewrites)
    // until the import ends: an importer with one is still to be imported.
    const hasFile = sql`EXISTS (SELECT 1 FROM importer_files WHERE importer_files.importer_id = importers.id)`
    const newClaim = () => `${process.pid}-${AccountId.make().slice(4)}`
    const runningHere = new Set<string>()

    const typeFor = (accountType: string | undefined): Effect.Effect<AccountType, AccountsError | SqlError> =>
      accountType !== undefined
        ? repository.findType(accountType)
        : Effect.flatMap(repository.listTypes, (types) => {
            const chosen = types.find((t) => t.default === true) ?? (types.length === 1 ? types[0] : undefined)
            return chosen
              ? Effect.succeed(chosen)
              : Effect.fail(
                  new Unprocessable({
                    message: `name the account type to import into (${types.map((t) => t.name).join(", ") || "the catalog has none"}): no type is the catalog's default`,
                    issues: [{ path: ["account-type"], message: "required" }]
                  })
                )
          })

    /**
     * Writes one chunk's accounts, their searchable values and their audit entries (operation
     * `import`), all in one statement each (values in batches), and an `account.created` event
     * per account (last: see mutation-frame.ts). Answers how many events it wrote.
     */
    const insertAccounts = (type: AccountType, rows: ReadonlyArray<ImportRow>, invocation: Invocation, at: Date) =>
      Effect.gen(function* () {
        if (rows.length === 0) return 0
        const iso = at.toISOString()
        const accounts = rows.map((row) =>
          Account.make(
            {
              id: AccountId.make(),
              referenceId: row.referenceId,
              accountTypeId: type.id,
              accountTypeName: type.name,
              status: type.defaultStatus,
              fields: row.fields,
              tags: row.tags,
              version: 1,
              createdAt: at,
              updatedAt: at,
              redactedAt: null,
              consolidatedInto: null
            },
            true
          )
        )
        const inserted = yield* sql<{ seq: number | string; id: string }>`INSERT INTO accounts ${sql.insert(
          accounts.map((a) => ({
            id: a.id,
            account_type_id: a.accountTypeId,
            created_at: iso,
            reference_id: a.referenceId,
            status: a.status,
            fields: JSON.stringify(a.fields),
            tags: JSON.stringify(a.tags),
            version: 1,
            updated_at: iso,
            redacted_at: null,
            consolidated_into: null
          }))
        )} RETURNING seq, id`
        const seqOf = new Map(inserted.map((r) => [r.id, Number(r.seq)]))
        yield* writeNewSearchValues(sql, type, accounts.map((a) => ({ seq: seqOf.get(a.id)!, fields: a.fields })))
        const tags = accounts.flatMap((a) => a.tags.map((tag) => ({ account_id: a.id, tag })))
        if (tags.length > 0) yield* sql`INSERT INTO account_tags ${sql.insert(tags)}`
        const actor = invocation.principal.actor
        yield* sql`INSERT INTO audit_log ${sql.insert(
          accounts.map((a) => ({
            at: iso,
            actor_kind: actor.kind,
            actor_id: actor.id,
            actor_name: actor.name,
            channel: invocation.channel,
            operation: "import",
            account_id: a.id,
            run_id: null,
            status_before: null,
            status_after: a.status,
            outcome: "ok",
            reason: invocation.reason ?? null,
            request_id: invocation.requestId ?? null
          }))
        )}`
        return yield* eventLog.append(accounts.flatMap((a) => accountChangeEvents(undefined, a)), invocation, at)
      })

    /** One chunk in one transaction: new accounts, duplicates counted, errors kept, counts moved. */
    const importChunk = (importerId: string, claim: string, type: AccountType, columns: Parameters<typeof importRow>[1], records: ReadonlyArray<Parameters<typeof importRow>[2]>, nextRow: number, seen: Set<string>, invocation: Invocation) =>
      sql.withTransaction(
        Effect.gen(function* () {
          const at = yield* now
          // First, so that on Postgres it locks the importer: a process taking over waits for
          // this chunk, and this one stops if the import was taken over meanwhile.
          const held = yield* sql`UPDATE importers SET next_row = ${nextRow}, lease_until = ${at.getTime() + leaseMs}, updated_at = ${at.toISOString()}
            WHERE id = ${importerId} AND lease_owner = ${claim} RETURNING id`
          if (held.length === 0) return yield* new LeaseLost({ importerId })
          const good: Array<ImportRow> = []
          const errors: Array<ImportRowError> = []
          for (const record of records) {
            const result = importRow(type, columns, record)
            if (Either.isLeft(result)) errors.push(...result.left.map((e) => ({ ...e, problem: withoutValue(e.problem) })))
            else good.push(result.right)
          }
          const erroredRows = new Set(errors.map((e) => e.row)).size
          const wanted = good.map((r) => r.referenceId)
          const taken = new Set(
            wanted.length === 0 ? [] : (yield* sql<{ reference_id: string }>`SELECT reference_id FROM accounts WHERE ${sql.in("reference_id", wanted)}`).map((r) => r.reference_id)
          )
          const fresh: Array<ImportRow> = []
          let duplicates = 0
          for (const row of good) {
            if (taken.has(row.referenceId) || seen.has(row.referenceId)) duplicates++
            else {
              seen.add(row.referenceId)
              fresh.push(row)
            }
          }
          if (errors.length > 0) {
            yield* sql`INSERT INTO importer_errors ${sql.insert(errors.map((e) => ({ importer_id: importerId, row_number: e.row, column_name: e.column, problem: e.problem })))}`
          }
          yield* sql`UPDATE importers SET
            successful_count = successful_count + ${fresh.length},
            duplicate_count = duplicate_count + ${duplicates},
            error_count = error_count + ${erroredRows},
            updated_at = ${at.toISOString()}
            WHERE id = ${importerId}`
          return yield* insertAccounts(type, fresh, invocation, at)
        })
      ).pipe(Effect.tap((events) => (events > 0 ? eventLog.committed : Effect.void)))

    /** The import's end, by its owner: the file (personal data) and the lease go. */
    const finish = (importerId: string, claim: string, status: "ready" | "errored") =>
      sql.withTransaction(
        Effect.gen(function* () {
          const at = yield* now
          const ended = yield* sql`UPDATE importers SET status = ${status}, updated_at = ${at.toISOString()}, completed_at = ${at.toISOString()}, invocation = NULL, lease_owner = NULL, lease_until = NULL
            WHERE id = ${importerId} AND lease_owner = ${claim} RETURNING id`
          if (ended.length > 0) yield* sql`DELETE FROM importer_files WHERE importer_id = ${importerId}`
        })
      )

    /** Lets go of an import this process stops running (the store closes), so the next process resumes it at once. */
    const release = (importerId: string, claim: string) => sql`UPDATE importers SET lease_until = NULL WHERE id = ${importerId} AND lease_owner = ${claim}`

    /**
     * The rows from `fromRow` on, chunk after chunk; a chunk that cannot commit (after retries)
     * stops the import as `errored`; a lost lease stops it quietly (another process goes on).
     */
    const run = (importerId: string, claim: string, type: AccountType, file: ImportFile, invocation: Invocation, fromRow: number) =>
      Effect.gen(function* () {
        runningHere.add(importerId)
        const seen = new Set<string>()
        for (let start = fromRow; start < file.records.length; start += IMPORT_CHUNK_ROWS) {
          const end = Math.min(start + IMPORT_CHUNK_ROWS, file.records.length)
          yield* retryPolicy.retry(Effect.mapError(importChunk(importerId, claim, type, file.columns, file.records.slice(start, end), end, seen, invocation), (e) => (e._tag === "SqlError" ? fromSqlError(e) : e)))
          // Lets whoever waits for the connection have it before the next chunk takes it, and
          // gives Node's event loop a turn (setImmediate: after pending I/O) so requests that
          // arrived meanwhile are read: on SQLite's one synchronous connection the import would
          // otherwise hold both to the end, and every other request (a GET of this importer
          // too) would wait for the whole import.
          yield* afterPendingIo
        }
        yield* finish(importerId, claim, "ready")
      }).pipe(
        Effect.catchAll((error) =>
          error._tag === "LeaseLost"
            ? Effect.logWarning("import taken over by another process").pipe(Effect.annotateLogs({ importer: importerId }))
            : Effect.zipRight(
                Effect.logWarning("import stopped").pipe(Effect.annotateLogs({ importer: importerId, error: error._tag })),
                Effect.ignore(finish(importerId, claim, "errored"))
              )
        ),
        Effect.onInterrupt(() => Effect.ignore(release(importerId, claim))),
        Effect.ensuring(Effect.sync(() => runningHere.delete(importerId)))
      )

    /**
     * Takes over one interrupted import (pending, its file kept, its lease run out), if no other
     * process took it first, and runs it from its next row in this process.
     */
    const resume = (importerId: string) =>
      Effect.gen(function* () {
        if (runningHere.has(importerId)) return
        const at = yield* now
        const claim = newClaim()
        const claimed = yield* sql<{ next_row: number | string; invocation: string; account_type_id: string }>`
          UPDATE importers SET lease_owner = ${claim}, lease_until = ${at.getTime() + leaseMs}, updated_at = ${at.toISOString()}
          WHERE id = ${importerId} AND status = 'pending' AND ${hasFile} AND (lease_until IS NULL OR lease_until < ${at.getTime()})
          RETURNING next_row, invocation, account_type_id`
        const row = claimed[0]
        if (row === undefined) return
        const stored = yield* sql<{ file: string }>`SELECT file FROM importer_files WHERE importer_id = ${importerId}`
        const file = readImportFile(stored[0]?.file ?? "")
        const invocation = Schema.decodeUnknownOption(StoredInvocation)(row.invocation)
        const type = yield* Effect.option(repository.findType(row.account_type_id))
        if (Either.isLeft(file) || Option.isNone(invocation) || Option.isNone(type)) {
          yield* Effect.logWarning("an interrupted import cannot be resumed").pipe(Effect.annotateLogs({ importer: importerId }))
          return yield* finish(importerId, claim, "errored")
        }
        yield* Effect.logInfo("resuming an interrupted import").pipe(Effect.annotateLogs({ importer: importerId, fromRow: Number(row.next_row) }))
        yield* FiberSet.run(running, run(importerId, claim, type.value, file.right, invocation.value, Number(row.next_row)))
      })

    /** Every little while: the pending imports whose lease ran out, taken over one by one. */
    const resumeInterrupted = Effect.gen(function* () {
      const at = yield* now
      const stalled = yield* sql<{ id: string }>`SELECT id FROM importers WHERE status = 'pending' AND ${hasFile} AND (lease_until IS NULL OR lease_until < ${at.getTime()})`
      for (const { id } of stalled) yield* resume(id)
    }).pipe(
      Effect.catchAll((error) => Effect.logWarning("looking for interrupted imports failed").pipe(Effect.annotateLogs({ error: error._tag }))),
      Effect.repeat(Schedule.spaced(Duration.millis(Math.max(50, Math.floor(leaseMs / 2)))))
    )
    if (yield* ResumeInterruptedImports) yield* FiberSet.run(running, resumeInterrupted)

    const start = (input: ImportAccountsInput, invocation: Invocation): Effect.Effect<Importer, AccountsError> =>
      Effect.gen(function* () {
        let started: { readonly id: string; readonly claim: string; readonly type: AccountType; readonly file: ImportFile } | undefined
        const claim = newClaim()
        const importer = yield* mutate(invocation, {
          name: "import-accounts",
          operation: "importAccounts",
          request: { file: sha256Hex(input.csv), accountType: input.accountType ?? null },
          result: Importer,
          work: (at) =>
            Effect.gen(function* () {
              const file = yield* Either.match(readImportFile(input.csv), { onLeft: Effect.fail, onRight: Effect.succeed })
              const type = yield* typeFor(input.accountType)
              const importer = new Importer(
                { id: ImporterId.make(), status: "pending", accountTypeId: type.id, rowCount: file.records.length, successfulCount: 0, duplicateCount: 0, errorCount: 0, createdAt: at, completedAt: null },
                true
              )
              yield* sql`INSERT INTO importers ${sql.insert({
                id: importer.id,
                status: importer.status,
                account_type_id: type.id,
                row_count: importer.rowCount,
                successful_count: 0,
                duplicate_count: 0,
                error_count: 0,
                created_at: at.toISOString(),
                updated_at: at.toISOString(),
                completed_at: null,
                next_row: 0,
                invocation: storedInvocation(invocation),
                lease_owner: claim,
                lease_until: at.getTime() + leaseMs
              })}`
              yield* sql`INSERT INTO importer_files ${sql.insert({ importer_id: importer.id, file: input.csv })}`
              yield* runLog.writeAudit(invocation, { operation: "import-accounts", accountId: null, outcome: "ok" }, at)
              started = { id: importer.id, claim, type, file }
              return importer
            })
        })
        // Only the call that recorded the importer runs it: a replay of its key answers the record.
        if (started?.id === importer.id) yield* FiberSet.run(running, run(started.id, started.claim, started.type, started.file, invocation, 0))
        return importer
      })

    const read = <A, E>(effect: Effect.Effect<A, E | SqlError>) =>
      retryPolicy.retry(Effect.catchIf(effect, (e): e is SqlError => (e as { _tag?: unknown })._tag === "SqlError", (e) => Effect.fail(fromSqlError(e)))) as Effect.Effect<A, Exclude<E, SqlError> | AccountsError>

    const get = (id: ImporterId) =>
      read(
        Effect.flatMap(Effect.zip(sql<ImporterRow>`SELECT * FROM importers WHERE id = ${id}`, now), ([rows, at]) =>
          rows[0] ? Effect.succeed(toImporter(rows[0], at.getTime())) : Effect.fail(NotFound.of("importer", id))
        )
      )

    const list = (query: PageQuery): Effect.Effect<Page<Importer>, AccountsError> =>
      read(
        Effect.zipWith(
          pageTable<ImporterRow>(sql, "importers", query),
          now,
          (page, at) => ({ items: page.rows.map((row) => toImporter(row, at.getTime())), next: page.next, prev: page.prev })
        )
      )

    /** In file order; a cursor is the position of the last error seen (`page[after]`). */
    const errors = (id: ImporterId, query: PageQuery): Effect.Effect<Page<ImportRowError>, AccountsError> =>
      read(
        Effect.gen(function* () {
          yield* get(id)
          if (query.before !== undefined) return yield* new InvalidRequest({ message: "page[before]: an importer's errors page forward only (page[after])", issues: [{ path: ["page", "before"], message: "not supported" }] })
          const size = yield* pageSize(query)
          const after = query.after === undefined ? 0 : Number(query.after)
          if (!Number.isSafeInteger(after) || after < 0) return yield* new InvalidRequest({ message: `page[after]: not a cursor of this list, got ${JSON.stringify(String(query.after).slice(0, 40))}`, issues: [{ path: ["page", "after"], message: "unknown cursor" }] })
          const rows = yield* sql<{ seq: number; row_number: number; column_name: string | null; problem: string }>`
            SELECT seq, row_number, column_name, problem FROM importer_errors WHERE importer_id = ${id} AND seq > ${after} ORDER BY seq LIMIT ${size + 1}`
          const items = rows.slice(0, size)
          return {
            items: items.map((r) => ({ row: Number(r.row_number), column: r.column_name, problem: r.problem })),
            next: rows.length > size ? String(items[items.length - 1]!.seq) : null,
            prev: null
          }
        })
      )

    return { start, get, list, errors } as const
  })
}) {}
