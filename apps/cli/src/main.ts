/**
 * The `acct` command: parses argv with @effect/cli, runs the command, and turns typed errors
 * into a message on stderr (JSON with --json) and a documented exit code.
 */
import { isAccountsError, formatIssues } from "@acct/core"
import { Command, ValidationError } from "@effect/cli"
// Deep imports: the package index also loads its HTTP client (two copies of undici, ≈ 1 MB).
// Only what @effect/cli needs (CliApp.Environment): NodeContext would add the command executor
// and the worker manager, with child_process and worker_threads, to every start.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Effect, Layer } from "effect"
import { accountsCommand } from "./commands/accounts.js"
import { auditCommand } from "./commands/audit.js"
import { bulkCommand } from "./commands/bulk.js"
import { doctorCommand } from "./commands/doctor.js"
import { actionsCommand, runsCommand, typesCommand } from "./commands/catalog.js"
import { eventsCommand } from "./commands/events.js"
import { importCommand } from "./commands/import.js"
import { initCommand } from "./commands/init.js"
import { keysCommand } from "./commands/keys.js"
import { webhooksCommand } from "./commands/webhooks.js"
import { lifecycleCommands } from "./commands/lifecycle.js"
import { runCommand } from "./commands/run.js"
import { runCli } from "./cli-app.js"
import { common } from "./context.js"
import { ExitCode, exitCodeFor, exitCodeHelp } from "./exit-codes.js"
import { VERSION } from "./version.js"

const root = Command.make("acct").pipe(
  Command.withDescription(
    `Run actions on customer accounts: look them up, enable, disable, activate, deactivate, tag, redact, and run configured account actions.

Start with:
  acct init --demo                                  create ./.acct/acct.db with demo data
  acct accounts list                                see the accounts
  acct run 'Set status' abc-123 status=activated    run an action on Jane Doe (reference id abc-123)
  acct runs list --account abc-123                  what happened to her account
  acct events list --account abc-123                every change's events (what webhooks receive)

<account> is an act_… id or a reference id.

Accounts can also live elsewhere, with the same commands:
  --remote URL                an acct server (env ACCT_URL, key in ACCT_API_KEY)
  --profile NAME              a profile from acct.config.yaml: local, remote, persona or softwareone
  ACCT_PROVIDER=persona       the simple case, with ACCT_PERSONA_API_KEY (ACCT_PERSONA_URL optional)
  acct doctor --profile NAME  check that a profile works`
  ),
  Command.withSubcommands([initCommand, accountsCommand, ...lifecycleCommands, runCommand, bulkCommand, importCommand, typesCommand, actionsCommand, runsCommand, eventsCommand, auditCommand, keysCommand, webhooksCommand, doctorCommand])
)

const app = { root, globals: Command.make("acct", common).descriptor, version: VERSION, footer: exitCodeHelp }
const wantsJson = process.argv.includes("--json")

const fail = (code: number, error: { _tag: string; message: string; issues?: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }> }) =>
  Effect.sync(() => {
    if (wantsJson) {
      process.stderr.write(`${JSON.stringify({ error: { type: error._tag, message: error.message, issues: error.issues ?? [] } })}\n`)
    } else {
      const issues = error.issues && error.issues.length > 1 ? `\n  ${formatIssues(error.issues).split("; ").join("\n  ")}` : ""
      process.stderr.write(`acct: ${error.message}${issues}\n`)
    }
    process.exitCode = code
  })

const program = runCli(app, process.argv).pipe(
  Effect.catchIf(isAccountsError, (error) => fail(exitCodeFor(error), error)),
  // Only from the built-ins left to @effect/cli (completions, wizard), which print their own message.
  Effect.catchIf(ValidationError.isValidationError, () => Effect.sync(() => void (process.exitCode = ExitCode.usage))),
  Effect.catchAllDefect((defect) => fail(ExitCode.failure, { _tag: "Failure", message: `unexpected failure: ${defect instanceof Error ? defect.message : String(defect)}` })),
  Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer))
)

NodeRuntime.runMain(program as Effect.Effect<void>, { disableErrorReporting: true })
