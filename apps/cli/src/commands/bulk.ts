/**
 * `acct bulk`: one operation over many accounts. Each account gets an idempotency key derived
 * from the batch, the operation, its parameters and the account, so re-running the same command
 * after an interruption replays what was done and only does what was not.
 */
import { Accounts, type AccountsError, assign, InvalidRequest, isAccountsError, LifecycleOperation, type RunResult } from "@acct/core"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Either, Option, Ref, Schema } from "effect"
import { createHash } from "node:crypto"
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { ExitCode } from "../exit-codes.js"
import { localRunReason } from "../run-reason.js"
import { InputTooLarge, readInput } from "../read-input.js"
import { accountArg, cliPrincipal, common, reason, withBackend } from "../context.js"
import { progressLine } from "../progress.js"

/** An id list past this (≈ 2 million ids) is refused: split it into several runs. */
const IDS_LIMIT_BYTES = 64 * 1024 * 1024

/** Ids or reference ids, one per line; blank lines and `#` comments skipped, duplicates dropped. */
export const parseIdList = (text: string): ReadonlyArray<string> => [
  ...new Set(
    text
      .split(/\r?\n/)
      .map((line) => line.replace(/#.*/, "").trim())
      .filter((line) => line.length > 0)
  )
]

const bulkKey = (batch: string, operation: string, parameters: unknown, account: string) =>
  `bulk-${createHash("sha256").update(JSON.stringify([batch, operation, parameters, account])).digest("hex").slice(0, 40)}`

interface Failure {
  readonly account: string
  readonly error: string
  readonly message: string
}

/** Where failures go without --report: `reports/` beside a local database file, else `.acct/reports/`. */
const reportsFolder = (db: string, elsewhere: boolean) => (elsewhere || isPostgresUrl(db) ? join(".acct", "reports") : join(dirname(db), "reports"))

/**
 * Writes a report of its own in `folder`: `bulk-<start time>.failures.jsonl`, or with `-2`, `-3`
 * … when a run that started in the same second already wrote that name (two bulk runs in a
 * script), so one run's report never overwrites another's.
 */
const writeNewReport = (folder: string, startedAt: number, text: string) => {
  const stamp = new Date(startedAt).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")
  for (let n = 1; ; n++) {
    const path = join(folder, `bulk-${stamp}${n === 1 ? "" : `-${n}`}.failures.jsonl`)
    try {
      writeFileSync(path, text, { flag: "wx" })
      return path
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
    }
  }
}

/** One level at a time (Node's recursive mkdir can spin forever on a dangling symlink). */
const ensureReportsDirectory = (folder: string) => {
  for (const dir of [dirname(folder), folder]) {
    try {
      mkdirSync(dir)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
    }
  }
}

const isPostgresUrl = (database: string) => /^postgres(ql)?:\/\//.test(database)

export const bulkCommand = Command.make(
  "bulk",
  {
    ...common,
    reason,
    operation: Args.text({ name: "operation" }).pipe(Args.withDescription("enable | disable | activate | deactivate, or an action id or name")),
    ids: Options.text("ids").pipe(Options.withDescription("file with one account id or reference id per line, or - for standard input")),
    concurrency: Options.integer("concurrency").pipe(Options.withDescription("accounts in flight at once (1–64)"), Options.withDefault(4)),
    report: Options.text("report").pipe(
      Options.withPseudoName("PATH"),
      Options.withDescription("where to write failures as JSON lines (default: reports/bulk-<time>.failures.jsonl beside the database, or under .acct/)"),
      Options.optional
    ),
    batch: Options.text("batch").pipe(Options.withDescription("name this batch; the same batch re-run replays instead of repeating (default: derived from the operation)"), Options.withDefault("")),
    parameters: Args.text({ name: "param=value" }).pipe(Args.withDescription("action parameters, as for `acct run`"), Args.repeated)
  },
  (o) =>
    Effect.gen(function* () {
      if (!Number.isInteger(o.concurrency) || o.concurrency < 1 || o.concurrency > 64) {
        return yield* new InvalidRequest({ message: `--concurrency must be 1–64, got ${o.concurrency}` })
      }
      const accounts = yield* Accounts
      const lifecycle = Schema.is(LifecycleOperation)(o.operation) ? o.operation : undefined
      const action = lifecycle ? undefined : yield* accounts.getAction(o.operation)
      const parameters = action ? yield* Either.match(assign(action.parameters, o.parameters), { onLeft: Effect.fail, onRight: Effect.succeed }) : {}
      if (lifecycle && o.parameters.length > 0) return yield* new InvalidRequest({ message: `${lifecycle} takes no parameters` })

      const text = yield* Effect.try({
        try: () => readInput(o.ids, IDS_LIMIT_BYTES),
        catch: (e) =>
          new InvalidRequest({
            message: e instanceof InputTooLarge ? `--ids ${o.ids}: ${e.message}; split the list into several runs` : `--ids ${o.ids}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`
          })
      })
      const ids = parseIdList(text)
      if (ids.length === 0) return yield* new InvalidRequest({ message: `--ids ${o.ids}: no account ids found` })

      const operationName = lifecycle ?? action!.id
      const tty = process.stderr.isTTY === true && !o.json
      const startedAt = Date.now()
      const done = yield* Ref.make(0)
      const failures = yield* Ref.make<ReadonlyArray<Failure>>([])
      // Accounts an earlier run of this batch already did: their idempotency key replays that
      // first run (started before this one), with its reason.
      const replayed = yield* Ref.make<ReadonlyArray<string>>([])
      let lastDraw = 0

      const one = (text: string) =>
        Effect.gen(function* () {
          const ref = yield* accountArg(text)
          const invocation = {
            principal: cliPrincipal,
            channel: "cli" as const,
            idempotencyKey: bulkKey(o.batch, operationName, parameters, text),
            reason: Option.getOrUndefined(o.reason)
          }
          const result: RunResult = lifecycle
            ? yield* accounts.lifecycle(ref, lifecycle, invocation)
            : yield* accounts.runAction(ref, action!.id, parameters, invocation)
          if (result.run.startedAt.getTime() < startedAt) yield* Ref.update(replayed, (list) => [...list, result.run.id])
          return result
        }).pipe(
          Effect.catchAll((error: AccountsError) =>
            Ref.update(failures, (list) => [...list, { account: text, error: error._tag, message: error.message }])
          ),
          Effect.catchAllDefect((defect) =>
            Ref.update(failures, (list) => [...list, { account: text, error: "Defect", message: isAccountsError(defect) ? defect.message : String(defect) }])
          ),
          Effect.zipRight(Ref.updateAndGet(done, (n) => n + 1)),
          Effect.tap((n) =>
            Effect.gen(function* () {
              if (!tty || (Date.now() - lastDraw < 100 && n < ids.length)) return
              lastDraw = Date.now()
              const failed = (yield* Ref.get(failures)).length
              process.stderr.write(progressLine(n, ids.length, failed, startedAt))
            })
          )
        )

      yield* Effect.forEach(ids, one, { concurrency: o.concurrency, discard: true })
      if (tty) process.stderr.write("\n")

      const failed = yield* Ref.get(failures)
      const replayedRuns = yield* Ref.get(replayed)
      const durationMs = Date.now() - startedAt
      let reportPath: string | null = null
      if (failed.length > 0) {
        const text = failed.map((f) => JSON.stringify(f)).join("\n") + "\n"
        // --report names a file the user chose (written over); otherwise a new file of its own.
        const where = Option.getOrElse(o.report, () => reportsFolder(o.db, Option.isSome(o.remote) || Option.isSome(o.profile)))
        reportPath = yield* Effect.try({
          try: () => {
            if (Option.isSome(o.report)) {
              writeFileSync(where, text)
              return where
            }
            ensureReportsDirectory(where)
            return writeNewReport(where, startedAt, text)
          },
          catch: (e) => new InvalidRequest({ message: `cannot write the report ${Option.isSome(o.report) ? where : `in ${where}`}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` })
        })
      }
      const givenReason = Option.getOrUndefined(o.reason)
      const firstReasons = givenReason === undefined ? [] : yield* Effect.forEach(replayedRuns, localRunReason)
      const otherReason = firstReasons.filter((r) => r !== undefined && r !== givenReason).length
      const summary = {
        operation: lifecycle ?? action!.name,
        total: ids.length,
        done: ids.length - failed.length - replayedRuns.length,
        replayed: replayedRuns.length,
        failed: failed.length,
        /** done + replayed: every account that is now in the requested state. */
        succeeded: ids.length - failed.length,
        durationMs,
        perSecond: Number((ids.length / Math.max(durationMs / 1000, 0.001)).toFixed(1)),
        report: reportPath
      }
      const replayNote =
        replayedRuns.length === 0 || givenReason === undefined
          ? []
          : [
              otherReason > 0 || firstReasons.some((r) => r === undefined)
                ? `${replayedRuns.length} account(s) were already done by an earlier run of this batch and were replayed, not repeated: their first reason stands${otherReason > 0 ? ` (${otherReason} differ from ${JSON.stringify(givenReason)})` : ""}. Use --batch NAME to run them again on purpose.`
                : `${replayedRuns.length} account(s) were already done by an earlier run of this batch (same reason) and were replayed, not repeated.`
            ]
      yield* o.json
        ? Console.log(JSON.stringify(summary, null, 2))
        : Console.log(
            [
              `${summary.operation}: ${summary.done} done, ${summary.replayed} already done (replayed), ${summary.failed} failed, of ${summary.total}, in ${(durationMs / 1000).toFixed(1)}s (${summary.perSecond}/s).`,
              ...replayNote,
              ...(reportPath ? [`Failures written to ${reportPath}. Fix them and run the same command again: completed accounts are replayed, not repeated.`] : [])
            ].join("\n")
          )
      if (failed.length > 0) process.exitCode = ExitCode.partial
    })
).pipe(
  Command.withDescription(
    "Run a lifecycle operation or an action over many accounts, with a progress bar on a terminal and a failure report. Safe to re-run: each account carries an idempotency key, so accounts already done are replayed, not repeated. Exits 7 when some accounts failed.\n\nExamples:\n  acct bulk disable --ids churned.txt --reason 'Q3 churn'\n  cat ids.txt | acct bulk 'Set status' --ids - status=activated --concurrency 8"
  ),
  withBackend
)
