/** Webhook endpoints and their signing secrets on @effect/sql (the Webhooks port of core). */
import {
  Conflict,
  type CreateWebhookInput,
  DEFAULT_SECRET_GRACE_SECONDS,
  InvalidRequest,
  NotFound,
  type Page,
  randomAlphanumeric,
  Webhook,
  WEBHOOK_API_VERSION,
  type WebhookChanges,
  WebhookId,
  Webhooks,
  type WebhooksError,
  WebhookSecrets,
  type WebhookSecretsService,
  type WebhooksService,
  webhookSettingsProblems,
  type WebhookStatus,
  WebhookUrlGuard
} from "@acct/core"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Layer } from "effect"
import { pageTable } from "./pages.js"
import { fromSqlError } from "./sql-errors.js"
import { EndpointChanges } from "./endpoint-changes.js"
import { WebhookKeyring } from "./webhook-keyring.js"
import { EventLog } from "./event-log.js"
import { systemPrincipal } from "./demo.js"

const system = { principal: systemPrincipal, channel: "library" } as const

export interface WebhookRow {
  readonly seq: number
  readonly id: string
  readonly name: string
  readonly url: string
  readonly description: string | null
  readonly status: string
  readonly enabled_events: string
  readonly key_inflection: string
  readonly attributes_blocklist: string
  readonly api_version: string
  readonly created_at: string
  readonly updated_at: string
  readonly failing_since: string | null
  readonly disabled_reason: string | null
}

export const toWebhook = (row: WebhookRow) =>
  Webhook.make({
    id: row.id as WebhookId,
    name: row.name,
    url: row.url,
    description: row.description,
    status: row.status as WebhookStatus,
    enabledEvents: JSON.parse(row.enabled_events),
    keyInflection: row.key_inflection as Webhook["keyInflection"],
    attributesBlocklist: JSON.parse(row.attributes_blocklist),
    apiVersion: row.api_version,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    failingSince: row.failing_since === null ? null : new Date(row.failing_since),
    disabledReason: row.disabled_reason
  })

/** Any database failure here is a Conflict (a rule) or Unavailable (retry later). */
export const dbFailures = <A, E, R>(effect: Effect.Effect<A, E | SqlError, R>): Effect.Effect<A, Exclude<E, SqlError> | Conflict | ReturnType<typeof fromSqlError>, R> =>
  Effect.catchIf(effect, (e): e is SqlError => (e as { _tag?: string })._tag === "SqlError", (e) => Effect.fail(fromSqlError(e))) as never

const newSecret = () => `wbhsec_${randomAlphanumeric(40)}`

export const makeSqlWebhooks = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const keyring = yield* WebhookKeyring
  const guard = yield* WebhookUrlGuard
  const events = yield* EventLog
  const endpointChanges = yield* EndpointChanges
  /** The change, then the dispatcher of this process told (after the commit, so it reads what committed). */
  const andTell = <A, E, R>(change: Effect.Effect<A, E, R>) => Effect.tap(change, () => endpointChanges.changed)
  const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

  const problems = (changes: WebhookChanges) => {
    const found = webhookSettingsProblems(changes)
    return found.length > 0 ? Effect.fail(InvalidRequest.fromIssues(found)) : Effect.void
  }

  const find = (id: string) =>
    Effect.flatMap(
      WebhookId.is(id) ? sql<WebhookRow>`SELECT * FROM webhooks WHERE id = ${id}` : Effect.succeed([] as ReadonlyArray<WebhookRow>),
      (rows) => (rows[0] ? Effect.succeed(rows[0]) : Effect.fail(NotFound.of("webhook", id)))
    )

  const addSecret = (id: string, at: Date) =>
    Effect.gen(function* () {
      const value = newSecret()
      yield* sql`INSERT INTO webhook_secrets ${sql.insert({ webhook_id: id, secret: yield* keyring.encrypt(id, value), created_at: at.toISOString(), expires_at: null })}`
      return value
    })

  const insert = (input: CreateWebhookInput, status: WebhookStatus) =>
    Effect.gen(function* () {
      yield* problems(input)
      const url = yield* guard.check(input.url)
      const at = yield* now
      const id = WebhookId.make()
      const row = {
        id,
        name: input.name,
        url: url.toString(),
        description: input.description ?? null,
        status,
        enabled_events: JSON.stringify(input.enabledEvents),
        key_inflection: input.keyInflection ?? "kebab",
        attributes_blocklist: JSON.stringify(input.attributesBlocklist ?? []),
        api_version: input.apiVersion ?? WEBHOOK_API_VERSION,
        created_at: at.toISOString(),
        updated_at: at.toISOString(),
        failing_since: null,
        disabled_reason: null
      }
      const secret = yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`INSERT INTO webhooks ${sql.insert(row)}`
          // The first webhook starts the dispatchers' cursor at the newest event: deliveries
          // begin with the events committed from now on, whether or not a dispatcher runs yet.
          // (`WHERE true`: SQLite would read ON CONFLICT as a join constraint without it.)
          yield* sql`INSERT INTO webhook_cursor (id, event_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM events WHERE true ON CONFLICT DO NOTHING`
          return yield* addSecret(id, at)
        })
      )
      return { webhook: toWebhook({ ...row, seq: 0 }), secrets: [{ value: secret, expiresAt: null }] }
    })

  const mustNotBeArchived = (row: WebhookRow) =>
    row.status === "archived" ? Effect.fail(new Conflict({ message: `webhook ${row.id} is archived; archived webhooks cannot change (clone it to start again)` })) : Effect.void

  const service: WebhooksService = {
    create: (input) => dbFailures(insert(input, "disabled")),
    list: (query) =>
      dbFailures(
        Effect.map(pageTable<WebhookRow>(sql, "webhooks", query), (page) => ({ items: page.rows.map(toWebhook), next: page.next, prev: page.prev }))
        // pageTable fails only with InvalidRequest (a bad cursor or size).
      ) as Effect.Effect<Page<Webhook>, WebhooksError>,
    get: (id) => dbFailures(Effect.map(find(id), toWebhook)),
    update: (id, changes) =>
      dbFailures(
        andTell(Effect.gen(function* () {
          const row = yield* find(id)
          yield* mustNotBeArchived(row)
          yield* problems(changes)
          const url = changes.url === undefined ? row.url : (yield* guard.check(changes.url)).toString()
          const at = yield* now
          const next: WebhookRow = {
            ...row,
            name: changes.name ?? row.name,
            url,
            description: changes.description === undefined ? row.description : changes.description,
            enabled_events: changes.enabledEvents === undefined ? row.enabled_events : JSON.stringify(changes.enabledEvents),
            key_inflection: changes.keyInflection ?? row.key_inflection,
            attributes_blocklist: changes.attributesBlocklist === undefined ? row.attributes_blocklist : JSON.stringify(changes.attributesBlocklist),
            api_version: changes.apiVersion ?? row.api_version,
            updated_at: at.toISOString()
          }
          yield* sql`UPDATE webhooks SET name = ${next.name}, url = ${next.url}, description = ${next.description}, enabled_events = ${next.enabled_events},
            key_inflection = ${next.key_inflection}, attributes_blocklist = ${next.attributes_blocklist}, api_version = ${next.api_version}, updated_at = ${next.updated_at}
            WHERE id = ${row.id}`
          return toWebhook(next)
        }))
      ),
    setStatus: (id, status, reason) =>
      dbFailures(
        andTell(Effect.gen(function* () {
          const row = yield* find(id)
          if (row.status === status) return toWebhook(row)
          yield* mustNotBeArchived(row)
          const at = (yield* now).toISOString()
          // Enabling starts the failure clock afresh; a reason is kept only while disabled by acct.
          const next = { ...row, status, updated_at: at, failing_since: status === "enabled" ? null : row.failing_since, disabled_reason: status === "disabled" ? (reason ?? null) : null }
          const webhook = toWebhook(next)
          yield* sql.withTransaction(
            Effect.gen(function* () {
              // The first endpoint enabled (none is yet) begins with the events committed from
              // now on: the dispatchers' cursor moves past the older ones here, once, instead of
              // after every commit while nobody is subscribed (webhook-queue.ts: fanOut).
              if (status === "enabled") {
                yield* sql.onDialectOrElse({
                  // Past the newest event of the transactions that have ended (event-log.ts, FeedPosition):
                  // events of transactions still running stay ahead of the cursor and reach this endpoint.
                  pg: () => sql`UPDATE webhook_cursor c SET event_xid = e.xid, event_seq = e.seq
                    FROM (SELECT xid, seq FROM events WHERE xid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY xid DESC, seq DESC LIMIT 1) e
                    WHERE c.id = 1 AND (e.xid, e.seq) > (c.event_xid, c.event_seq) AND NOT EXISTS (SELECT 1 FROM webhooks WHERE status = 'enabled')`,
                  orElse: () => sql`UPDATE webhook_cursor SET event_seq = (SELECT MAX(seq) FROM events)
                    WHERE id = 1 AND (SELECT MAX(seq) FROM events) > event_seq AND NOT EXISTS (SELECT 1 FROM webhooks WHERE status = 'enabled')`
                })
              }
              yield* sql`UPDATE webhooks SET status = ${status}, updated_at = ${at}, failing_since = ${next.failing_since}, disabled_reason = ${next.disabled_reason} WHERE id = ${row.id}`
              // acct disabling an endpoint by itself (410, 5 days of failures) is an event too.
              if (status === "disabled" && reason !== undefined) {
                yield* events.append([{ name: "webhook.disabled", object: { _tag: "webhook", value: webhook }, context: { data: { reason } } }], system, new Date(at))
              }
            })
          )
          if (status === "disabled" && reason !== undefined) yield* events.committed
          return webhook
        }))
      ),
    clone: (id) =>
      dbFailures(
        Effect.gen(function* () {
          const source = toWebhook(yield* find(id))
          return yield* insert({ ...source, keyInflection: source.keyInflection }, "disabled")
        })
      ),
    rotateSecret: (id, graceSeconds = DEFAULT_SECRET_GRACE_SECONDS) =>
      dbFailures(
        andTell(Effect.gen(function* () {
          if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > 30 * 86_400) {
            return yield* new InvalidRequest({ message: `meta.expires-in-seconds: expected a whole number of seconds from 0 to 2592000 (30 days), got ${graceSeconds}` })
          }
          const row = yield* find(id)
          yield* mustNotBeArchived(row)
          const at = yield* now
          const expiresAt = new Date(at.getTime() + graceSeconds * 1000)
          const value = yield* sql.withTransaction(
            Effect.gen(function* () {
              // Only the newest previous secret keeps signing: older ones expire now.
              yield* sql`UPDATE webhook_secrets SET expires_at = ${at.toISOString()} WHERE webhook_id = ${row.id} AND expires_at IS NOT NULL AND expires_at > ${at.toISOString()}`
              yield* sql`UPDATE webhook_secrets SET expires_at = ${expiresAt.toISOString()} WHERE webhook_id = ${row.id} AND expires_at IS NULL`
              return yield* addSecret(row.id, at)
            })
          )
          // The new secret only: the previous one is not shown again.
          return { webhook: toWebhook(row), secrets: [{ value, expiresAt: null }] }
        }))
      ),
  }
  const secrets: WebhookSecretsService = {
    signing: (id) =>
      dbFailures(
        Effect.gen(function* () {
          const at = (yield* now).toISOString()
          const rows = yield* sql<{ readonly secret: string; readonly expires_at: string | null }>`SELECT secret, expires_at FROM webhook_secrets WHERE webhook_id = ${id} AND (expires_at IS NULL OR expires_at > ${at}) ORDER BY seq DESC LIMIT 2`
          const expiries = rows.flatMap((r) => (r.expires_at === null ? [] : [Date.parse(r.expires_at)]))
          return { values: yield* Effect.forEach(rows, (r) => keyring.decrypt(id, r.secret)), until: expiries.length === 0 ? null : new Date(Math.min(...expiries)) }
        })
      ),
    reencrypt: () =>
      dbFailures(
        Effect.gen(function* () {
          const rows = yield* sql<{ readonly seq: number; readonly webhook_id: string; readonly secret: string }>`SELECT seq, webhook_id, secret FROM webhook_secrets`
          let changed = 0
          for (const row of rows) {
            if (!keyring.isStale(row.secret)) continue
            const plain = yield* keyring.decrypt(row.webhook_id, row.secret)
            yield* sql`UPDATE webhook_secrets SET secret = ${yield* keyring.encrypt(row.webhook_id, plain)} WHERE seq = ${row.seq}`
            changed++
          }
          return changed
        })
      )
  }
  return { service, secrets }
})

/** Writes its own events (webhook.disabled) through an event log of its own on the same database. */
export const SqlWebhooksLive: Layer.Layer<Webhooks | WebhookSecrets, never, SqlClient.SqlClient | WebhookKeyring | WebhookUrlGuard | EndpointChanges> = Layer.effectContext(
  Effect.map(makeSqlWebhooks, ({ service, secrets }) => Context.make(Webhooks, service).pipe(Context.add(WebhookSecrets, secrets)))
).pipe(
  Layer.provide(EventLog.Default.pipe(Layer.orDie))
)
