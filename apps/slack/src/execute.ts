/**
 * Runs one parsed `/acct` command for one Slack user against the Accounts port, and says what
 * happened as a Block Kit message: the result, a confirmation prompt for risky changes, or a
 * denial that names the missing permission. Never throws: every failure becomes a message.
 */
import { type Account, type AccountsError, type AccountsOperation, accountsPolicy, type AccountsService, assign, authorize, InvalidRequest, type IdOwner, type Invocation, isAccountsError, parseAccountRef } from "@acct/core"
import { Effect, Either } from "effect"
import { accountMessage, accountsMessage, confirmMessage, errorMessage, helpMessage, historyMessage, runMessage } from "./blocks.js"
import { findQuery, type SlackCommand } from "./command.js"
import { issue } from "./confirm.js"
import type { Permissions, SlackUser } from "./policy.js"
import type { SlackMessage } from "./responder.js"

export interface ExecuteContext {
  readonly accounts: AccountsService
  /** Whose ids `accounts` carry: an upstream's are read as it makes them. */
  readonly ids: IdOwner
  readonly permissions: Permissions
  readonly user: SlackUser
  /** The slash command as configured, e.g. /acct. */
  readonly commandName: string
  readonly signingSecret: string
  readonly nowSeconds: number
  /** Set when the user confirmed: the change's Idempotency-Key. */
  readonly confirmedKey?: string | undefined
}

export type Outcome = { readonly message: SlackMessage; readonly result: "ok" | "denied" | "failed" | "confirm" | "help"; readonly changed: boolean }

/** What a person is told when acct itself failed. */
export const UNEXPECTED = "Something went wrong on acct's side; nothing else was changed. Try again, or use the CLI."

/** Targets listed per relation key in `show`. */
const RELATIONS_SHOWN = 10

/** Lifecycle operations that ask first. */
const RISKY = new Set(["disable", "deactivate"])

const permissionDenied = (doing: string, scope: string) => `You may not ${doing}: missing permission ${scope}. Ask an acct admin to grant it in the Slack policy.`

const friendly = (error: AccountsError, commandName: string): string => {
  switch (error._tag) {
    case "NotFound":
      return `${error.message}. Check the id or reference id (\`${commandName} find <reference-id>\`).`
    case "Forbidden":
      return permissionDenied("do that", error.missingScope)
    case "InvalidRequest":
      // A search's caret lines (see `find`) line up only in a code block.
      return error.message.includes("\n") ? `${error.message.split("\n")[0]}\n\`\`\`${error.message.split("\n").slice(1).join("\n")}\`\`\`` : error.message
    case "RateLimited":
      return `acct is busy (rate limited)${error.retryAfterSeconds !== undefined ? `; try again in ${Math.ceil(error.retryAfterSeconds)} s` : "; try again shortly"}.`
    case "Unavailable":
    case "Timeout":
      return "acct is unavailable right now; nothing was changed that you were not told about. Try again shortly."
    default:
      return error.message
  }
}

/** Core's policy, asked before confirming, so a user is not asked to confirm what they may not do. */
const deny = (permissions: Permissions, operation: AccountsOperation, doing: string = accountsPolicy[operation].doing) => {
  const denied = authorize(permissions.principal, operation, doing)
  return denied ? permissionDenied(doing, denied.missingScope) : undefined
}

export const execute = (command: SlackCommand, ctx: ExecuteContext): Effect.Effect<Outcome> => {
  const { accounts, permissions, user } = ctx
  // The type's field schemas say what is personal; unreadable, everything is masked.
  const typeOf = (account: Account) => Effect.orElseSucceed(accounts.getType(account.accountTypeId), () => undefined)
  const show = (account: Account) => Effect.map(typeOf(account), (type) => accountMessage(account, type?.fields))
  /** `show` also lists the account's relations (a few per key; an unreadable one is left out). */
  const showWithRelations = (account: Account) =>
    Effect.gen(function* () {
      const type = yield* typeOf(account)
      const relations = yield* Effect.forEach(type?.relations ?? [], (schema) =>
        Effect.map(Effect.option(accounts.listRelations({ id: account.id }, { key: schema.key, size: RELATIONS_SHOWN })), (page) =>
          page._tag === "Some" ? [{ key: schema.key, targets: page.value.items, more: page.value.next !== null }] : []
        )
      )
      return accountMessage(account, type?.fields, relations.flat())
    })
  const invocation = (reason?: string): Invocation => ({
    principal: permissions.principal,
    // The person: through an acct server, whose key is the Slack app's, the server records them
    // as the actor (Acct-On-Behalf-Of; the key needs account.delegate) and the key as `via`.
    onBehalfOf: permissions.principal.actor,
    channel: "slack",
    idempotencyKey: ctx.confirmedKey,
    reason
  })
  const ok = (message: SlackMessage, changed = false): Outcome => ({ message, result: "ok", changed })
  const refuse = (text: string): Outcome => ({ message: errorMessage(text), result: "denied", changed: false })
  const confirm = (description: string): Outcome => {
    if (command.kind !== "lifecycle" && command.kind !== "run" && command.kind !== "redact") return refuse("nothing to confirm")
    const token = issue(ctx.signingSecret, { command, teamId: user.teamId, userId: user.userId }, ctx.nowSeconds)
    return token.length > 2000
      ? refuse("this command is too long to confirm in Slack; use the CLI")
      : { message: confirmMessage(description, token), result: "confirm", changed: false }
  }
  const ref = (text: string) => Either.match(parseAccountRef(text, ctx.ids), { onLeft: Effect.fail, onRight: Effect.succeed })

  // `run Set status abc-123 …`: the first word alone names no action. Say how to quote the one meant.
  const unknownAction = (run: Extract<SlackCommand, { kind: "run" }>) =>
    Effect.flatMap(accounts.listActions(), (actions) => {
      const typed = [run.action, run.account, ...run.parameters]
      const meant = actions.find((a) => {
        const parts = a.name.split(/\s+/)
        return parts.length > 1 && parts.length < typed.length && parts.every((part, i) => part.toLowerCase() === typed[i]!.toLowerCase())
      })
      const rest = meant ? typed.slice(meant.name.split(/\s+/).length) : []
      return Effect.fail(
        new InvalidRequest({
          message: meant
            ? `no action is called "${run.action}". Quote an action whose name has spaces: \`${ctx.commandName} run "${meant.name}" ${rest.join(" ")}\``
            : `no action is called "${run.action.slice(0, 60)}"; actions: ${actions.map((a) => a.name).join(", ") || "none"}. Quote a name with spaces: \`${ctx.commandName} run "<action name>" <account> …\``
        })
      )
    })

  const work: Effect.Effect<Outcome, AccountsError> = Effect.gen(function* () {
    if (permissions.refused) return refuse(permissions.refused)
    switch (command.kind) {
      case "help":
        return { message: helpMessage(ctx.commandName, command.problem), result: "help" as const, changed: false }
      case "show":
        return ok(yield* showWithRelations(yield* accounts.get(yield* ref(command.account))))
      case "find": {
        const find = yield* Either.match(findQuery(command.text), { onLeft: Effect.fail, onRight: Effect.succeed })
        const page = yield* accounts.search({ query: find.query, size: 20 }).pipe(Effect.mapError((e) => (e._tag === "InvalidRequest" ? find.explain(e) : e)))
        return ok(accountsMessage(`${find.title}${page.next ? " (first 20)" : ""}`, page.items))
      }
      case "history": {
        const account = yield* accounts.get(yield* ref(command.account))
        const runs = yield* accounts.listRuns({ account: { id: account.id }, size: 10 })
        return ok(historyMessage(account, runs.items))
      }
      case "lifecycle": {
        const denied = deny(permissions, "lifecycle", `${command.operation} accounts`)
        if (denied) return refuse(denied)
        if (RISKY.has(command.operation) && ctx.confirmedKey === undefined) return confirm(`${command.operation} ${command.account}${command.reason ? ` (${command.reason})` : ""}`)
        const { account, run } = yield* accounts.lifecycle(yield* ref(command.account), command.operation, invocation(command.reason))
        return ok(runMessage(account, run, user.userId), true)
      }
      case "run": {
        const denied = deny(permissions, "runAction")
        if (denied) return refuse(denied)
        const action = yield* Effect.catchIf(accounts.getAction(command.action), (e) => e._tag === "NotFound", () => unknownAction(command))
        if (permissions.actions && !permissions.actions.has(action.name)) {
          return refuse(`You may not run "${action.name}": the Slack policy allows you ${permissions.actions.size > 0 ? [...permissions.actions].join(", ") : "no actions"}.`)
        }
        const parameters = yield* Either.match(assign(action.parameters, command.parameters), { onLeft: Effect.fail, onRight: Effect.succeed })
        if (action.confirm && ctx.confirmedKey === undefined) return confirm(`run "${action.name}" on ${command.account}`)
        const { account, run } = yield* accounts.runAction(yield* ref(command.account), action.id, parameters, invocation())
        return ok(runMessage(account, run, user.userId), true)
      }
      case "redact": {
        const denied = deny(permissions, "redact")
        if (denied) return refuse(denied)
        if (ctx.confirmedKey === undefined) return confirm(`redact ${command.account}: erase its personal data for good${command.reason ? ` (${command.reason})` : ""}`)
        const account = yield* accounts.redact(yield* ref(command.account), invocation(command.reason))
        return ok(yield* show(account), true)
      }
      case "tag": {
        const denied = deny(permissions, "changeTags")
        if (denied) return refuse(denied)
        const account = yield* accounts.changeTags(yield* ref(command.account), { add: command.add, remove: command.remove }, invocation())
        return ok(yield* show(account), true)
      }
    }
  })

  return work.pipe(
    Effect.catchAll((error) => Effect.succeed<Outcome>({ message: errorMessage(friendly(error, ctx.commandName)), result: error._tag === "Forbidden" ? "denied" : "failed", changed: false })),
    Effect.catchAllDefect((defect) =>
      Effect.as(
        Effect.logError("slack command failed unexpectedly", isAccountsError(defect) ? defect.message : String(defect)),
        { message: errorMessage(UNEXPECTED), result: "failed" as const, changed: false }
      )
    )
  )
}
