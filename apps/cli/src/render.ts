/** How domain objects look to people (tables, details) and to scripts (`--json`). */
import { type Account, type AccountAction, type AccountType, AcctEvent, type ActionRun, encodeAnyAccount, encodeAnyAction, encodeAnyRun, encodeAnyType, fieldSchema, isEmptyValue, isPersonal, type Page, showField, statusChange } from "@acct/core"
import type { AuditEntry } from "@acct/store-sql"
import { Schema } from "effect"
import { details, table } from "./table.js"

const date = (d: Date | null) => (d === null ? "-" : d.toISOString().replace(".000Z", "Z"))

/** `types`: the account types, whose `pii` flags decide what the NAME column masks. */
export const accountTable = (accounts: ReadonlyArray<Account>, types: ReadonlyArray<AccountType>) =>
  table(
    ["ID", "REFERENCE", "TYPE", "STATUS", "NAME", "TAGS"],
    accounts.map((a) => [a.id, a.referenceId ?? "-", a.accountTypeName, a.status, showField(fieldSchema(types.find((t) => t.id === a.accountTypeId)?.fields, "name"), a.fields.name) || "-", a.tags.join(",") || "-"])
  )

/**
 * One account for people: fields the type marks `pii` masked as everywhere else (core's
 * `showField`; an unknown type masks every field). `--json` gives the values in full, for scripts.
 */
export const accountDetails = (a: Account, type: AccountType | undefined) =>
  [
    details([
      ["id", a.id],
      ["reference id", a.referenceId ?? "-"],
      ["type", `${a.accountTypeName} (${a.accountTypeId})`],
      ["status", a.status],
      ["tags", a.tags.join(", ") || "-"],
      ["version", String(a.version)],
      ["created", date(a.createdAt)],
      ["updated", date(a.updatedAt)],
      ...(a.redactedAt ? [["redacted", date(a.redactedAt)] as const] : []),
      ...(a.consolidatedInto ? [["consolidated into", a.consolidatedInto] as const] : [])
    ]),
    "",
    "fields:",
    ...Object.entries(a.fields).map(([k, v]) => `  ${k}: ${showField(fieldSchema(type?.fields, k), v) || "-"}`),
    ...(Object.entries(a.fields).some(([k, v]) => isPersonal(fieldSchema(type?.fields, k)) && !isEmptyValue(v)) ? ["", "(personal data masked; --json shows every value)"] : [])
  ].join("\n")

type ActorLike = { readonly kind: string; readonly id: string; readonly name: string }

/** `cli:alice`, `slack:T1/U2 via api-key:slack app`: who acted, and the key a person acted through. */
export const actorText = (actor: ActorLike, via: ActorLike | null) => {
  const name = (a: ActorLike) => (a.name.startsWith(`${a.kind}:`) ? a.name : `${a.kind}:${a.name}`)
  return via ? `${name(actor)} via ${name(via)}` : name(actor)
}

/** An account's relations, one table per key (the targets' names masked as in `accountTable`). */
export const relationsText = (pages: ReadonlyArray<{ readonly key: string; readonly page: Page<Account> }>, types: ReadonlyArray<AccountType>) =>
  pages
    .map(({ key, page }) =>
      [`${key}:`, page.items.length === 0 ? "  (none)" : accountTable(page.items, types)].join("\n")
    )
    .join("\n\n")

export const runTable = (runs: ReadonlyArray<ActionRun>) =>
  table(
    ["RUN", "ACCOUNT", "ACTION", "CHANGE", "ACTOR", "AT"],
    runs.map((r) => [r.id, r.accountId, r.actionName, statusChange(r), actorText(r.actor, r.via), date(r.finishedAt)])
  )

export const runDetails = (r: ActionRun, reason: string | null = null) =>
  details([
    ["run", r.id],
    ["account", r.accountId],
    ["action", r.actionId ? `${r.actionName} (${r.actionId})` : r.actionName],
    ["status", r.status],
    ["change", statusChange(r)],
    ["actor", `${r.actor.kind}:${r.actor.id} (${r.actor.name})`],
    ...(r.via ? [["via key", `${r.via.kind}:${r.via.id} (${r.via.name})`] as const] : []),
    ["reason", reason ?? "-"],
    ["parameters", JSON.stringify(r.parameters)],
    ["events", r.events.map((e) => e.event).join(", ") || "-"],
    ["idempotency key", r.idempotencyKey ?? "-"],
    ["started", date(r.startedAt)],
    ["finished", date(r.finishedAt)]
  ])

export const typeTable = (types: ReadonlyArray<AccountType>) =>
  table(["ID", "NAME", "STATUSES", "FIELDS"], types.map((t) => [t.id, t.name, t.statuses.join(","), t.fields.map((f) => f.key).join(",")]), 60)

export const typeDetails = (t: AccountType) =>
  [
    details([
      ["id", t.id],
      ["name", t.name],
      ["description", t.description || "-"],
      ["statuses", t.statuses.join(", ")],
      ["default status", t.defaultStatus],
      ["lifecycle", `Active=${t.lifecycle.active} Enabled=${t.lifecycle.enabled} Disabled=${t.lifecycle.disabled}`]
    ]),
    "",
    "fields:",
    ...t.fields.map((f) => `  ${f.key} (${f.type}${f.fields ? `: ${f.fields.map((s) => s.key).join(", ")}` : ""}${f.pii ? ", personal data" : ""}${f.searchable ? ", searchable" : ""})`)
  ].join("\n")

const paramSummary = (a: AccountAction) =>
  a.parameters.map((p) => `${p.key}${p.required ? "" : "?"}:${p.type === "choices" ? (p.options ?? []).join("|") : p.type}`).join(" ") || "-"

export const actionTable = (actions: ReadonlyArray<AccountAction>) =>
  table(["ID", "NAME", "PARAMETERS", "DESCRIPTION"], actions.map((a) => [a.id, a.name, paramSummary(a), a.description || "-"]), 60)

export const actionDetails = (a: AccountAction) =>
  [
    details([
      ["id", a.id],
      ["name", a.name],
      // An upstream's action may not say (Persona's API exposes no definitions).
      ["account type", a.accountTypeId || "-"],
      ["description", a.description || "-"],
      ["parameters", paramSummary(a)],
      ["needs confirmation", a.confirm ? "yes" : "no"]
    ]),
    "",
    ...(a.steps.length === 0 ? ["steps: defined in the upstream"] : ["steps:"]),
    ...a.steps.map((s, i) => `  ${i + 1}. ${s.type} ${JSON.stringify(Object.fromEntries(Object.entries(s).filter(([k]) => k !== "type")))}`)
  ].join("\n")

const auditChange = (e: AuditEntry) =>
  e.statusBefore === null && e.statusAfter === null ? "-" : e.statusBefore === null ? `now ${e.statusAfter}` : e.statusBefore === e.statusAfter ? e.statusAfter! : `${e.statusBefore} → ${e.statusAfter}`

export const auditTable = (entries: ReadonlyArray<AuditEntry>) =>
  table(
    ["AT", "ACTOR", "CHANNEL", "OPERATION", "ACCOUNT", "CHANGE", "OUTCOME", "REASON"],
    entries.map((e) => [date(e.at), actorText(e.actor, e.via), e.channel, e.operation, e.accountId ?? "-", auditChange(e), e.outcome, e.reason ?? "-"])
  )

/**
 * JSON shapes for `--json`: the domain schemas, encoded (dates as ISO strings). Accounts, runs,
 * types and actions may come from an upstream profile with the upstream's own ids and status
 * names: encoded as any owner makes them.
 */
export const json = {
  account: encodeAnyAccount,
  run: encodeAnyRun,
  type: encodeAnyType,
  action: encodeAnyAction,
  audit: (e: AuditEntry) => ({ ...e, at: e.at.toISOString() }),
  event: (e: AcctEvent) => Schema.encodeSync(AcctEvent)(e),
  page: <A, I>(page: Page<A>, encode: (a: A) => I) => ({ data: page.items.map(encode), next: page.next, prev: page.prev })
}

/** What an event says changed, in a few words ("+vip -trial", "deactivated → disabled"). */
const eventChange = (e: AcctEvent): string => {
  const c = e.context
  if (c.tagName !== undefined) return `${e.name === "account.tag-removed" ? "-" : "+"}${c.tagName}`
  if (c.addedTags !== undefined || c.removedTags !== undefined) return [...(c.addedTags ?? []).map((t) => `+${t}`), ...(c.removedTags ?? []).map((t) => `-${t}`)].join(" ")
  if (c.statusBefore !== undefined) return `${c.statusBefore} → ${c.statusAfter}`
  if (c.updatedFields !== undefined) return [...c.updatedFields, ...(c.referenceIdBefore !== undefined ? ["reference-id"] : [])].join(", ")
  if (c.consolidatedInto !== undefined) return `into ${c.consolidatedInto}`
  if (c.sourceAccountIds !== undefined) return `from ${c.sourceAccountIds.join(", ")}`
  if (c.relationSchemaKey !== undefined) return `${c.relationSchemaKey}: ${c.targetAccountId ?? c.targetTxnId ?? "-"}`
  if (e.object._tag === "workflow-run") return `${e.object.value.actionName}: ${statusChange(e.object.value)}`
  if (c.data !== undefined) return JSON.stringify(c.data)
  return "-"
}

const eventActor = (e: AcctEvent) => (e.context.actor ? `${e.context.actor.kind}:${e.context.actor.name}` : "-")

export const eventTable = (events: ReadonlyArray<AcctEvent>) =>
  table(
    ["EVENT", "NAME", "OBJECT", "CHANGE", "ACTOR", "AT"],
    events.map((e) => [e.id, e.name, e.object.value.id, eventChange(e), eventActor(e), date(e.createdAt)])
  )

export const eventDetails = (e: AcctEvent) => {
  const o = e.object
  return details([
    ["event", e.id],
    ["name", e.name],
    ["at", date(e.createdAt)],
    ["object", `${o._tag} ${o.value.id}`],
    ...(o._tag === "account"
      ? ([["status", o.value.status], ["tags", o.value.tags.join(", ") || "-"]] as const)
      : o._tag === "workflow-run"
        ? ([["account", o.value.accountId], ["action", o.value.actionName], ["change", statusChange(o.value)]] as const)
        : ([["webhook", o.value.name], ["url", o.value.url], ["status", o.value.status]] as const)),
    ...(e.context.data === undefined ? ([["what changed", eventChange(e)]] as const) : []),
    ["run", e.context.workflowRunId ?? "-"],
    ["actor", e.context.actor ? `${e.context.actor.kind}:${e.context.actor.id} (${e.context.actor.name})` : "-"],
    ["channel", e.context.channel ?? "-"],
    ["request", e.context.requestId ?? "-"],
    ...(e.context.data !== undefined ? ([["data", JSON.stringify(e.context.data)]] as const) : [])
  ])
}
