/**
 * Block Kit messages: short sections that read well on desktop and mobile. Personal data in
 * account fields (email, phone, birth date, address, identity numbers) is masked.
 */
import { type Account, type ActionRun, type FieldValue, plainValue, statusChange } from "@acct/core"
import { SUBCOMMANDS } from "./command.js"
import type { SlackMessage } from "./responder.js"

const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } })
const context = (text: string) => ({ type: "context", elements: [{ type: "mrkdwn", text }] })

/** Slack's mrkdwn treats these as control characters. */
export const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

const PERSONAL = /e-?mail|phone|birth|address|ssn|social|tax|passport|licen[cs]e|national|identification|iban|card/i

export const mask = (key: string, field: FieldValue): string => {
  const value = plainValue(field)
  if (value === null || value === undefined) return "—"
  const text = typeof value === "object" ? Object.values(value as Record<string, unknown>).filter((v) => v !== null && v !== "").join(" ") : String(value)
  if (field.type === "email-address" || /e-?mail/i.test(key)) {
    const [user, domain] = text.split("@")
    return domain ? `${user!.slice(0, 1)}•••@${domain}` : "•••"
  }
  if (PERSONAL.test(key)) return text.length > 4 && /phone/i.test(key) ? `•••${text.slice(-2)}` : "•••"
  return text.length > 80 ? `${text.slice(0, 79)}…` : text
}

const who = (account: Account) => escape(account.referenceId ?? account.id)

export const accountMessage = (account: Account): SlackMessage => {
  const fields = Object.entries(account.fields).slice(0, 8).map(([key, field]) => `*${escape(key)}*: ${escape(mask(key, field))}`)
  return {
    text: `${account.referenceId ?? account.id}: ${account.status}`,
    blocks: [
      section(`*${who(account)}* · \`${account.status}\` · ${escape(account.accountTypeName)}`),
      section(fields.length > 0 ? fields.join("\n") : "_no fields_"),
      context(`${account.id} · tags: ${account.tags.length > 0 ? account.tags.map(escape).join(", ") : "none"} · updated ${account.updatedAt.toISOString().slice(0, 16).replace("T", " ")} UTC`)
    ]
  }
}

export const accountsMessage = (title: string, accounts: ReadonlyArray<Account>): SlackMessage => ({
  text: `${title}: ${accounts.length} found`,
  blocks: [
    section(`*${escape(title)}*`),
    section(accounts.length === 0 ? "_nothing found_" : accounts.map((a) => `• *${who(a)}* · \`${a.status}\` · ${escape(a.accountTypeName)}${a.tags.length > 0 ? ` · ${a.tags.map(escape).join(", ")}` : ""}`).join("\n"))
  ]
})

const change = (run: ActionRun) => statusChange(run, (status) => `\`${status}\``)

export const runMessage = (account: Account, run: ActionRun, by: string): SlackMessage => ({
  text: `${run.actionName} on ${account.referenceId ?? account.id}: ${statusChange(run)}`,
  blocks: [section(`:white_check_mark: *${escape(run.actionName)}* on *${who(account)}*: ${change(run)}`), context(`run ${run.id} · by ${escape(by)}`)]
})

export const historyMessage = (account: Account, runs: ReadonlyArray<ActionRun>): SlackMessage => ({
  text: `History of ${account.referenceId ?? account.id}`,
  blocks: [
    section(`*History of ${who(account)}*`),
    section(
      runs.length === 0
        ? "_no action runs yet_"
        : runs.map((r) => `• ${r.finishedAt.toISOString().slice(0, 16).replace("T", " ")} · *${escape(r.actionName)}* ${change(r)} · ${escape(r.actor.name)} (${r.actor.kind})`).join("\n")
    )
  ]
})

export const helpMessage = (command: string, problem?: string): SlackMessage => ({
  text: problem ?? `${command} help`,
  blocks: [
    ...(problem ? [section(`:warning: ${problem}`)] : []),
    section(
      [
        `*${command} show <account>* — status, type, tags, key fields`,
        `*${command} find <reference-id | tag:vip | status:disabled>*`,
        `*${command} enable | disable | activate | deactivate <account> [reason…]*`,
        `*${command} run "<action>" <account> [key=value …]*`,
        `*${command} tag <account> +add -remove*`,
        `*${command} history <account>* — recent action runs`,
        `*${command} redact <account> [reason…]* — erase personal data (asks first)`
      ].join("\n")
    ),
    context(`<account> is an act_… id or a reference id · commands: ${SUBCOMMANDS.join(", ")}`)
  ]
})

export const errorMessage = (text: string): SlackMessage => ({ text, blocks: [section(`:x: ${escape(text)}`)] })

export const confirmMessage = (description: string, token: string): SlackMessage => ({
  text: `Confirm: ${description}`,
  blocks: [
    section(`:warning: ${escape(description)} — are you sure?`),
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
            text: { type: "mrkdwn", text: escape(description) },
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
