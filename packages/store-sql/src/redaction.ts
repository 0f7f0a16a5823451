/**
 * Redaction beyond the account row: everything else the database keeps about the account's
 * personal data is erased in the redaction's own transaction, so nothing survives it anywhere —
 * run parameters and results (keys kept, values dropped), its events (payloads and context:
 * field values and emitted data dropped, keys and types kept; quoted values cut out), audit reasons that
 * quote the data, and stored idempotency records (results rewritten to the redacted account,
 * recorded refusals scrubbed of the values they quote). The HTTP layer keeps no record of its
 * own: a replayed request is answered from these.
 */
import { Account, type AccountId, type Fields, plainValue, redactFields } from "@acct/core"
import type { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import type { EventRow } from "./event-log.js"
import type { RunRow } from "./rows.js"

const isPlainObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Keeps a value's keys (nested too) and drops every value: scalars become null, arrays empty. */
export const dropValues = (value: unknown): unknown =>
  Array.isArray(value) ? [] : isPlainObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, dropValues(v)])) : null

/** An emitted event's data without its values; the account id it names is not personal data. */
const dropEventValues = (data: Record<string, unknown>) => ({ ...(dropValues(data) as object), ...("account-id" in data ? { "account-id": data["account-id"] } : {}) })

const redactEvents = (events: ReadonlyArray<{ event: string; data: Record<string, unknown> }>) => events.map((e) => ({ event: e.event, data: dropEventValues(e.data) }))

/** A JSON value with `personal` cut out of every text in it. */
const scrubDeep = (value: unknown, personal: ReadonlySet<string>): unknown =>
  typeof value === "string"
    ? scrubText(value, personal)
    : Array.isArray(value)
      ? value.map((v) => scrubDeep(v, personal))
      : isPlainObject(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, personal)]))
        : value

/** Every text leaf of a JSON value (the personal data to look for elsewhere). */
const strings = (value: unknown, into: Set<string>): Set<string> => {
  if (typeof value === "string") into.add(value)
  else if (Array.isArray(value)) value.forEach((v) => strings(v, into))
  else if (isPlainObject(value)) Object.values(value).forEach((v) => strings(v, into))
  return into
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * Free text with the given values cut out. Values shorter than 3 characters are left alone:
 * they cannot identify anyone and would mangle unrelated words.
 */
export const scrubText = (text: string, personal: ReadonlySet<string>): string => {
  const values = [...personal].filter((v) => v.trim().length >= 3).sort((a, b) => b.length - a.length)
  return values.length === 0 ? text : text.replace(new RegExp(values.map(escapeRegExp).join("|"), "gi"), "[redacted]")
}

/**
 * Erases the traces of `before`'s personal data, `after` being the redacted account. Runs
 * inside the redaction's transaction; answers the personal values found, so the redaction's
 * own audit reason can be scrubbed the same way.
 */
export const eraseAccountTraces = (sql: SqlClient.SqlClient, before: Account, after: Account) =>
  Effect.gen(function* () {
    const id: AccountId = before.id
    const personal = strings(Object.values(before.fields).map(plainValue), new Set<string>())

    const runs = yield* sql<Pick<RunRow, "id" | "parameters" | "events">>`SELECT id, parameters, events FROM action_runs WHERE account_id = ${id}`
    for (const run of runs) {
      const parameters = JSON.parse(run.parameters) as Record<string, unknown>
      const events = JSON.parse(run.events) as Array<{ event: string; data: Record<string, unknown> }>
      strings(parameters, personal)
      events.forEach((e) => strings(Object.entries(e.data).filter(([k]) => k !== "account-id").map(([, v]) => v), personal))
      yield* sql`UPDATE action_runs SET ${sql.update({ parameters: JSON.stringify(dropValues(parameters)), events: JSON.stringify(redactEvents(events)) })} WHERE id = ${run.id}`
    }

    // The account's events (its runs' included): the objects as redacted, emitted data without
    // values, and whatever else the context quotes of the personal data cut out.
    const events = yield* sql<Pick<EventRow, "seq" | "object_type" | "payload" | "context">>`SELECT seq, object_type, payload, context FROM events WHERE account_id = ${id}`
    const contexts = events.map((row) => JSON.parse(row.context) as { data?: Record<string, unknown> })
    contexts.forEach((context) => strings(Object.entries(context.data ?? {}).filter(([k]) => k !== "account-id").map(([, v]) => v), personal))
    for (const [index, row] of events.entries()) {
      const payload = JSON.parse(row.payload) as Record<string, unknown>
      const redacted =
        row.object_type === "account"
          ? { ...payload, fields: redactFields(payload.fields as Fields) }
          : { ...payload, parameters: dropValues(payload.parameters), events: redactEvents((payload.events as Parameters<typeof redactEvents>[0]) ?? []) }
      const { data, ...context } = contexts[index]!
      const scrubbed = { ...(scrubDeep(context, personal) as object), ...(data !== undefined ? { data: dropEventValues(data) } : {}) }
      yield* sql`UPDATE events SET ${sql.update({ payload: JSON.stringify(redacted), context: JSON.stringify(scrubbed) })} WHERE seq = ${row.seq}`
    }

    // Refused attempts are recorded without an account (it may not have been found): scrub those too.
    const reasons = yield* sql<{ seq: number; reason: string }>`
      SELECT seq, reason FROM audit_log WHERE (account_id = ${id} OR account_id IS NULL) AND reason IS NOT NULL`
    for (const row of reasons) {
      const scrubbed = scrubText(row.reason, personal)
      if (scrubbed !== row.reason) yield* sql`UPDATE audit_log SET reason = ${scrubbed} WHERE seq = ${row.seq}`
    }

    const encodedAccount = Schema.encodeSync(Account)(after)
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite)
      if (!isPlainObject(value)) return value
      if (value.id === id && "fields" in value) return encodedAccount
      if (value.accountId === id && "parameters" in value) {
        return { ...value, parameters: dropValues(value.parameters), events: redactEvents((value.events as Parameters<typeof redactEvents>[0]) ?? []) }
      }
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v)]))
    }
    const like = `%${id}%`
    const stored = yield* sql<{ principal_id: string; idempotency_key: string; response: string }>`
      SELECT principal_id, idempotency_key, response FROM idempotency_keys WHERE response LIKE ${like}`
    for (const row of stored) {
      yield* sql`UPDATE idempotency_keys SET response = ${JSON.stringify(rewrite(JSON.parse(row.response)))}
        WHERE principal_id = ${row.principal_id} AND idempotency_key = ${row.idempotency_key}`
    }
    const refusals = yield* sql<{ principal_id: string; idempotency_key: string; error: string }>`
      SELECT principal_id, idempotency_key, error FROM idempotency_keys WHERE error IS NOT NULL`
    for (const row of refusals) {
      const scrubbed = JSON.stringify(scrubDeep(JSON.parse(row.error), personal))
      if (scrubbed !== row.error) {
        yield* sql`UPDATE idempotency_keys SET error = ${scrubbed} WHERE principal_id = ${row.principal_id} AND idempotency_key = ${row.idempotency_key}`
      }
    }
    return personal
  })
