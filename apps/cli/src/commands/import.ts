/**
 * `acct import accounts FILE.csv`: Persona's account importer, locally or through a server. The
 * file is checked here first (a file refused as a whole is refused before anything is sent),
 * then imported; the command follows the importer's counts with a progress bar on a terminal
 * and ends with a summary and the rows refused (row, column, problem). Rows are idempotent by
 * reference id, so importing the same file again after a fix creates only what was missing.
 */
import { Accounts, type Importer, importerDone, type ImportRowError, InvalidRequest, readImportFile } from "@acct/core"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Either, Option } from "effect"
import { common, idempotencyKey, invocation, reason, withBackend } from "../context.js"
import { ExitCode } from "../exit-codes.js"
import { progressLine } from "../progress.js"
import { InputTooLarge, readInput } from "../read-input.js"

/** A file past this is refused: split it (a server takes at most ACCT_MAX_IMPORT_BYTES anyway). */
const FILE_LIMIT_BYTES = 256 * 1024 * 1024
/** Errors the text summary lists; --json lists them all. */
const ERRORS_SHOWN = 20
const POLL = "200 millis"

const describeError = (e: ImportRowError) => `  row ${e.row}${e.column ? `, ${e.column}` : ""}: ${e.problem}`

const accounts = Command.make(
  "accounts",
  {
    ...common,
    idempotencyKey,
    reason,
    file: Args.text({ name: "FILE.csv" }).pipe(Args.withDescription("the CSV file (- for standard input)")),
    type: Options.text("type").pipe(Options.withDescription("the account type to import into (id or name; default: the catalog's default type)"), Options.optional)
  },
  (o) =>
    Effect.gen(function* () {
      const service = yield* Accounts
      const csv = yield* Effect.try({
        try: () => readInput(o.file, FILE_LIMIT_BYTES),
        catch: (e) =>
          new InvalidRequest({ message: e instanceof InputTooLarge ? `${o.file}: ${e.message}; split it into several files` : `${o.file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})` })
      })
      const file = yield* Either.match(readImportFile(csv), {
        onLeft: (e) => Effect.fail(new InvalidRequest({ message: `${o.file}: ${e.message}`, issues: e.issues })),
        onRight: Effect.succeed
      })
      const total = file.records.length
      const tty = process.stderr.isTTY === true && !o.json
      const startedAt = Date.now()
      const run = { ...invocation({ idempotencyKey: o.idempotencyKey, reason: o.reason, expectVersion: Option.none() }) }
      let importer: Importer = yield* service.importAccounts({ csv, accountType: Option.getOrUndefined(o.type) }, run)
      while (importer.status === "pending") {
        if (tty) process.stderr.write(progressLine(importerDone(importer), total, importer.errorCount, startedAt))
        yield* Effect.sleep(POLL)
        importer = yield* service.getImporter(importer.id)
      }
      if (tty) process.stderr.write(`${progressLine(importerDone(importer), total, importer.errorCount, startedAt)}\n`)

      const errors: Array<ImportRowError> = []
      let after: string | undefined
      while (importer.errorCount > 0 && (o.json || errors.length < ERRORS_SHOWN)) {
        const page = yield* service.listImportErrors(importer.id, { after, size: 100 })
        errors.push(...page.items)
        if (page.next === null) break
        after = page.next
      }
      const durationMs = Date.now() - startedAt
      const summary = {
        importer: importer.id,
        status: importer.status,
        rows: total,
        created: importer.successfulCount,
        duplicates: importer.duplicateCount,
        refused: importer.errorCount,
        durationMs,
        rowsPerSecond: Number((importerDone(importer) / Math.max(durationMs / 1000, 0.001)).toFixed(1)),
        errors
      }
      yield* o.json
        ? Console.log(JSON.stringify(summary, null, 2))
        : Console.log(
            [
              `${o.file}: ${summary.created} created, ${summary.duplicates} already there (duplicates, unchanged), ${summary.refused} refused, of ${total} rows, in ${(durationMs / 1000).toFixed(1)}s (${summary.rowsPerSecond} rows/s). Importer ${importer.id}.`,
              ...(importer.status === "errored"
                ? [`The import stopped before the end (${importerDone(importer)} of ${total} rows done). Import the same file again: rows already imported count as duplicates.`]
                : []),
              ...(errors.length > 0 ? ["Refused rows (row = line in the file; nothing of them was imported):", ...errors.slice(0, ERRORS_SHOWN).map(describeError)] : []),
              ...(importer.errorCount > ERRORS_SHOWN ? [`  … and more: acct import accounts ${o.file} --json lists them all; fix them and import the file again.`] : [])
            ].join("\n")
          )
      if (importer.status === "errored") process.exitCode = ExitCode.failure
      else if (importer.errorCount > 0) process.exitCode = ExitCode.partial
    })
).pipe(
  Command.withDescription(
    "Import accounts from a CSV file (Persona's importer columns: reference_id, name_first, name_middle, name_last, birthdate, social_security_number, tags). reference_id is required: a row whose reference id exists already is a duplicate and changes nothing, so importing the same file again is safe. Shows a progress bar on a terminal; exits 7 when some rows were refused (each named by row, column and problem).\n\nExamples:\n  acct import accounts people.csv\n  acct import accounts people.csv --type User --json > import.json"
  ),
  withBackend
)

export const importCommand = Command.make("import").pipe(Command.withDescription("Bring accounts in from files."), Command.withSubcommands([accounts]))
