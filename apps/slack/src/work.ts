/**
 * The work behind an acknowledged command or click: check permissions, run it, answer through
 * `response_url`, write the audit line. Jobs are plain data, so the same work runs in the
 * receiving thread (tests, small setups) or in a worker thread (the app's default), where it
 * cannot slow down the acknowledgements Slack waits for.
 */
import { type AccountsService, type IdOwner, withPolicy } from "@acct/core"
import { Effect } from "effect"
import { errorMessage } from "./blocks.js"
import type { SlackCommand } from "./command.js"
import { execute, type Outcome, UNEXPECTED } from "./execute.js"
import { permissionsOf, type Policy, type SlackUser } from "./policy.js"
import { makeResponder, type SlackMessage } from "./responder.js"

export type Job =
  | {
      readonly kind: "run"
      readonly command: SlackCommand
      readonly user: SlackUser
      readonly responseUrl: string
      /** For a confirmed change: its Idempotency-Key, and the question it replaces. */
      readonly confirmedKey?: string | undefined
    }
  /** A click that cannot go ahead (forged, expired, someone else's), or Cancel. */
  | { readonly kind: "refuse"; readonly text: string; readonly result: Outcome["result"]; readonly user: Pick<SlackUser, "teamId" | "userId">; readonly responseUrl: string }
  | { readonly kind: "cancel"; readonly responseUrl: string }

export interface WorkOptions {
  readonly accounts: AccountsService
  /** Whose ids `accounts` carry (@acct/backend `idOwnerOf`): how the account a person names is read. */
  readonly ids: IdOwner
  readonly policy: Policy
  readonly signingSecret: string
  readonly commandName: string
  readonly announceChanges?: boolean | undefined
  readonly responseRetryBaseMs?: number | undefined
  /** One line per command (allowed or denied): ids and outcome, never tokens or personal data. */
  readonly audit: (entry: Record<string, unknown>) => void
}

/** Audit lines as JSON on standard output. */
export const auditToStdout = (entry: Record<string, unknown>) => void process.stdout.write(`${JSON.stringify({ message: "slack command", ...entry })}\n`)

export const describeCommand = (command: SlackCommand) => ("account" in command ? `${command.kind} ${command.account}` : command.kind)

export const makeWork = (options: WorkOptions) => {
  // Remote backends see only the app's own credentials: check each user's scopes here as well.
  const accounts = withPolicy(options.accounts)
  const deliver = async (responseUrl: string, outcome: Outcome, extra: Partial<SlackMessage> = {}) => {
    const responder = makeResponder(responseUrl, Date.now(), options.responseRetryBaseMs !== undefined ? { baseDelayMs: options.responseRetryBaseMs } : {})
    await Effect.runPromise(responder.post({ response_type: "ephemeral", ...outcome.message, ...extra }))
    if (outcome.changed && options.announceChanges) await Effect.runPromise(responder.post({ response_type: "in_channel", text: outcome.message.text }))
  }

  const run = async (job: Job): Promise<void> => {
    switch (job.kind) {
      case "cancel":
        return deliver(job.responseUrl, { message: { text: "Cancelled; nothing was changed." }, result: "ok", changed: false }, { replace_original: true })
      case "refuse":
        options.audit({ team: job.user.teamId, user: job.user.userId, command: "confirm", outcome: job.result })
        return deliver(job.responseUrl, { message: errorMessage(job.text), result: job.result, changed: false }, { replace_original: true })
      case "run": {
        // Permissions are worked out here, at the time of running: for a click, they may have changed since the question.
        const permissions = permissionsOf(options.policy, job.user)
        const outcome = await Effect.runPromise(
          execute(job.command, {
            accounts,
            ids: options.ids,
            permissions,
            user: job.user,
            commandName: options.commandName,
            signingSecret: options.signingSecret,
            nowSeconds: Math.floor(Date.now() / 1000),
            confirmedKey: job.confirmedKey
          })
        )
        options.audit({ team: job.user.teamId, user: job.user.userId, command: `${job.confirmedKey ? "confirm " : ""}${describeCommand(job.command)}`, outcome: outcome.result })
        return deliver(job.responseUrl, outcome, job.confirmedKey ? { replace_original: true } : {})
      }
    }
  }

  // Never rejects: a bug met by one job is logged and answered, and the next job still runs.
  return (job: Job): Promise<void> =>
    run(job).catch(async (error: unknown) => {
      options.audit({ ...("user" in job ? { team: job.user.teamId, user: job.user.userId } : {}), command: job.kind, outcome: "failed", error: error instanceof Error ? error.name : typeof error })
      await deliver(job.responseUrl, { message: errorMessage(UNEXPECTED), result: "failed", changed: false }).catch(() => undefined)
    })
}
