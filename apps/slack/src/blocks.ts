/**
 * Block Kit messages: short sections that read well on desktop and mobile. Field values follow
 * the catalog's `pii` flags (masked by @acct/core's `showField`); user text is escaped, our own
 * mentions are not.
 */
import { type Account, type ActionRun, type FieldSchema, fieldSchema, showField, statusChange } from "@acct/core"
import { SUBCOMMANDS } from "./command.js"
import type { SlackMessage } from "./responder.js"

const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } })
const context = (text: string) => ({ type: "context", elements: [{ type: "mrkdwn", text }] })

/** Slack's mrkdwn treats these as control characters. */
export const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** User text in a message: escaped, and cut short so that a message stays within Slack's limits. */
export const quote = (text: string, max = 80) => escape(text.length > max ? `${text.slice(0, max - 1)}…` : text)

/** `<@U…>`, which Slack renders as the person; anything that is not a user id is shown as text. */
export const mention = (userId: string) => (/^[UW][A-Z0-9]{2,}$/.test(userId) ? `<@${userId}>` : escape(userId))

const day = (date: Date) => date.toISOString().slice(0, 10)
const minute = (date: Date) => `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`

const who = (account: Account) => quote(account.referenceId ?? account.id)

/** An account's relations as `show` lists them: a few targets per key. */
export interface RelationsShown {
  readonly key: string
  readonly targets: ReadonlyArray<Account>
  readonly more: boolean
}

const relationsSection = (relations: ReadonlyArray<RelationsShown>) =>
  relations
    .map(({ key, targets, more }) => `*${escape(key)}*: ${targets.length === 0 ? "—" : targets.map((t) => `${who(t)} (\`${t.status}\`)`).join(", ")}${more ? ", …" : ""}`)
    .join("\n")

/**
 * `schemas`: the account type's fields (their `pii` flags); undefined when unknown, then every
 * value is masked. `relations`: listed under the fields, by reference id or id (never by name).
 */
export const accountMessage = (account: Account, schemas: ReadonlyArray<FieldSchema> | undefined, relations: ReadonlyArray<RelationsShown> = []): SlackMessage => {
  const fields = Object.entries(account.fields)
    .slice(0, 8)
    .map(([key, field]) => `*${escape(key)}*: ${quote(showField(fieldSchema(schemas, key), field)) || "—"}`)
  return {
    text: `${account.referenceId ?? account.id}: ${account.status}`,
    blocks: [
      section(`*${who(account)}* · \`${account.status}\` · ${escape(account.accountTypeName)}`),
      section(account.redactedAt ? `_redacted on ${day(account.redactedAt)}_` : fields.length > 0 ? fields.join("\n") : "_no fields_"),
      ...(relations.length > 0 ? [section(`_relations_\n${relationsSection(relations)}`)] : []),
      context(`${account.id} · tags: ${account.tags.length > 0 ? account.tags.map((t) => quote(t)).join(", ") : "none"} · updated ${minute(account.updatedAt)}`)
    ]
  }
}

export const accountsMessage = (title: string, accounts: ReadonlyArray<Account>): SlackMessage => ({
  text: `${title}: ${accounts.length} found`,
  blocks: [
    section(`*${quote(title, 200)}*`),
    section(accounts.length === 0 ? "_nothing found_" : accounts.map((a) => `• *${who(a)}* · \`${a.status}\` · ${escape(a.accountTypeName)}${a.tags.length > 0 ? ` · ${a.tags.map((t) => quote(t)).join(", ")}` : ""}`).join("\n"))
  ]
})

const change = (run: ActionRun) => statusChange(run, (status) => `\`${status}\``)

/** `byUserId`: the Slack user who asked, mentioned. */
export const runMessage = (account: Account, run: ActionRun, byUserId: string): SlackMessage => ({
  text: `${run.actionName} on ${account.referenceId ?? account.id}: ${statusChange(run)}`,
  blocks: [section(`:white_check_mark: *${escape(run.actionName)}* on *${who(account)}*: ${change(run)}`), context(`run ${run.id} · by ${mention(byUserId)}`)]
})

/**
 * A Slack actor (`T…/U…`) as a mention; anyone else by name and kind; and the key a person
 * acted through, when a front end named them (`via key "slack app"`).
 */
const actor = (run: ActionRun) => {
  const slackUser = run.actor.kind === "slack" ? run.actor.id.split("/")[1] : undefined
  const who = slackUser ? mention(slackUser) : `${quote(run.actor.name)} (${run.actor.kind})`
  return run.via ? `${who} via key ${quote(run.via.name)}` : who
}

export const historyMessage = (account: Account, runs: ReadonlyArray<ActionRun>): SlackMessage => ({
  text: `History of ${account.referenceId ?? account.id}`,
  blocks: [
    section(`*History of ${who(account)}*`),
    section(
      runs.length === 0
        ? "_no action runs yet_"
        : runs.map((r) => `• ${r.finishedAt.toISOString().slice(0, 16).replace("T", " ")} · *${escape(r.actionName)}* ${change(r)} · ${actor(r)}`).join("\n")
    )
  ]
})

export const helpMessage = (command: string, problem?: string): SlackMessage => ({
  text: problem ?? `${command} help`,
  blocks: [
    ...(problem ? [section(`:warning: ${quote(problem, 2900)}`)] : []),
    section(
      [
        `*${command} show <account>* — status, type, tags, key fields`,
        `*${command} find <reference-id | tag:vip | status:disabled | search>* — e.g. find status = disabled and fields.email_address = jane@doe.com`,
        `*${command} enable | disable | activate | deactivate <account> [reason…]*`,
        `*${command} run "<action>" <account> [key=value …]*`,
        `*${command} tag <account> +add -remove*`,
        `*${command} history <account>* — recent action runs`,
        `*${command} redact <account> [reason…]* — erase personal data (asks first)`
      ]
        .map(escape)
        .join("\n")
    ),
    context(escape(`<account> is an act_… id or a reference id · commands: ${SUBCOMMANDS.join(", ")}`))
  ]
})

export const errorMessage = (text: string): SlackMessage => ({ text, blocks: [section(`:x: ${quote(text, 2900)}`)] })

export const confirmMessage = (description: string, token: string): SlackMessage => ({
  text: `Confirm: ${description}`,
  blocks: [
    section(`:warning: ${quote(description, 2900)} — are you sure?`),
    {
      type: "actions",
      elements: [
        {
          type: "button",
          action_id: "acct_confirm",
          style: "danger",
          text: { type: "plain_text", text: "Confirm" },
          value: token,
          confirm: {
            title: { type: "plain_text", text: "Are you sure?" },
            // Slack allows 300 characters here.
            text: { type: "mrkdwn", text: quote(description, 280) },
            confirm: { type: "plain_text", text: "Yes, do it" },
            deny: { type: "plain_text", text: "Cancel" },
            style: "danger"
          }
        },
        { type: "button", action_id: "acct_cancel", text: { type: "plain_text", text: "Cancel" }, value: "cancel" }
      ]
    }
  ]
})
