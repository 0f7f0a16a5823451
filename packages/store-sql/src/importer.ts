/**
 * Persona's account importer on the store. `start` checks the file as a whole and records the
 * importer (`pending`) through the mutation frame (permission, idempotency, audit); the rows are
 * then imported in the background, a chunk at a time: each chunk one transaction that writes
 * its new accounts (one multi-row INSERT each for accounts, tags and audit entries), its row
 * errors and the importer's counts, so the counts never claim more than what committed. A row
 * is idempotent by its reference id: one that is taken already is a duplicate and changes
 * nothing, so importing the same file again creates nothing twice.
 */
import {
  Account,
  accountChangeEvents,
  AccountId,
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
  type PageQuery,
  readImportFile,
  RetryPolicy,
  sha256Hex,
  Unprocessable
} from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Either, FiberSet } from "effect"
import { AccountsRepository } from "./accounts-repository.js"
import { EventLog } from "./event-log.js"
import { MutationFrame, now } from "./mutation-frame.js"
import { pageSize, pageTable } from "./pages.js"
import { RunLog } from "./run-log.js"
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
     * Writes one chunk's accounts and their audit entries (operation `import`), all in one
     * statement each, and an `account.created` event per account (last: see mutation-frame.ts).
     * Answers how many events it wrote.
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
        yield* sql`INSERT INTO accounts ${sql.insert(
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
        )}`
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
    const importChunk = (importerId: string, type: AccountType, columns: Parameters<typeof importRow>[1], records: Parameters<typeof importRow>[2][], seen: Set<string>, invocation: Invocation) =>
      sql.withTransaction(
        Effect.gen(function* () {
          const at = yield* now
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

    const finish = (importerId: string, status: "ready" | "errored") =>
      Effect.flatMap(now, (at) => sql`UPDATE importers SET status = ${status}, updated_at = ${at.toISOString()}, completed_at = ${at.toISOString()} WHERE id = ${importerId}`)

    /** The rows, chunk after chunk; a chunk that cannot commit (after retries) stops the import as `errored`. */
    const run = (importerId: string, type: AccountType, file: Either.Either.Right<ReturnType<typeof readImportFile>>, invocation: Invocation) =>
      Effect.gen(function* () {
        const seen = new Set<string>()
        for (let start = 0; start < file.records.length; start += IMPORT_CHUNK_ROWS) {
          yield* retryPolicy.retry(Effect.mapError(importChunk(importerId, type, file.columns, file.records.slice(start, start + IMPORT_CHUNK_ROWS), seen, invocation), fromSqlError))
        }
        yield* finish(importerId, "ready")
      }).pipe(
        Effect.catchAll((error) =>
          Effect.zipRight(
            Effect.logWarning("import stopped").pipe(Effect.annotateLogs({ importer: importerId, error: "_tag" in error ? error._tag : "SqlError" })),
            Effect.ignore(finish(importerId, "errored"))
          )
        )
      )

    const start = (input: ImportAccountsInput, invocation: Invocation): Effect.Effect<Importer, AccountsError> =>
      Effect.gen(function* () {
        let started: { readonly id: string; readonly type: AccountType; readonly file: Either.Either.Right<ReturnType<typeof readImportFile>> } | undefined
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
                completed_at: null
              })}`
              yield* runLog.writeAudit(invocation, { operation: "import-accounts", accountId: null, outcome: "ok" }, at)
              started = { id: importer.id, type, file }
              return importer
            })
        })
        // Only the call that recorded the importer runs it: a replay of its key answers the record.
        if (started?.id === importer.id) yield* FiberSet.run(running, run(started.id, started.type, started.file, invocation))
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
