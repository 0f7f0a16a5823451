/**
 * Webhook endpoints: create (the secret printed once), list, show, update, enable, disable,
 * archive, clone, rotate-secret, deliveries and `acct events replay` — on a local database or,
 * with --remote / ACCT_URL, through an acct server's API; rekey and dispatch work on the
 * database itself (its key, its queue).
 */
import { type AccountsError, InvalidRequest, KeyInflection, type Webhook, WebhookDeliveries, Webhooks, WebhookSecrets, type WebhookWithSecrets } from "@acct/core"
import { remoteWebhooks } from "@acct/backend"
import { Args, Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import { Console, Effect, Layer, Option, Schema } from "effect"
import { type BackendOptions, chooseBackend, common, local, output, parseTime, store } from "../context.js"
import { details, table } from "../table.js"

// The dispatcher, the queue and the API schemas they bring are loaded only by a webhook command
// that runs: the rest of the CLI never pays for them at start-up.
const webhooksModule = Effect.promise(() => import("@acct/webhooks"))
const localWebhooks = (db: string) => Layer.unwrapEffect(Effect.map(webhooksModule, (w) => w.webhooksLayer(db)))

/** Gives a command the webhooks ports of the store named by its `--db` (rekey, dispatch: the database itself). */
export const withWebhooks = <Name extends string, R, E, A extends { readonly db: string }>(command: Command.Command<Name, R, E, A>) =>
  Command.provide(command, (options: A) => localWebhooks(options.db).pipe(Layer.provideMerge(store(options.db))))

/** Gives a command the webhooks of its backend: the local `--db`, or an acct server (--remote / ACCT_URL). */
export const withWebhooksBackend = <Name extends string, R, E, A extends BackendOptions>(command: Command.Command<Name, R, E, A>) =>
  Command.provide(command, (options: A) =>
    Layer.unwrapEffect(
      Effect.map(chooseBackend(options), (chosen): Layer.Layer<Webhooks | WebhookDeliveries, AccountsError> =>
        chosen.kind === "local" ? localWebhooks(chosen.database).pipe(Layer.provide(store(chosen.database))) : remoteWebhooks(chosen)
      )
    )
  )

export const webhookJson = (w: Webhook) => ({
  id: w.id,
  name: w.name,
  url: w.url,
  description: w.description,
  status: w.status,
  enabledEvents: w.enabledEvents,
  keyInflection: w.keyInflection,
  attributesBlocklist: w.attributesBlocklist,
  apiVersion: w.apiVersion,
  createdAt: w.createdAt.toISOString(),
  updatedAt: w.updatedAt.toISOString(),
  failingSince: w.failingSince?.toISOString() ?? null,
  disabledReason: w.disabledReason
})

const webhookDetails = (w: Webhook) =>
  details([
    ["id", w.id],
    ["name", w.name],
    ["url", w.url],
    ["status", w.disabledReason ? `${w.status} (${w.disabledReason})` : w.status],
    ["events", w.enabledEvents.join(", ")],
    ["inflection", w.keyInflection],
    ["blocklist", w.attributesBlocklist.join(", ") || "-"],
    ["description", w.description ?? "-"],
    ["failing since", w.failingSince?.toISOString() ?? "-"],
    ["created", w.createdAt.toISOString()]
  ])

const withSecret = (made: WebhookWithSecrets, what: string) =>
  [webhookDetails(made.webhook), "", `${what}:`, "", `  ${made.secrets[0]!.value}`, "", "This is the only time the secret is shown; it is stored encrypted. Verify deliveries with it (Persona-Signature or Standard Webhooks)."].join("\n")

const webhookArg = Args.text({ name: "webhook" }).pipe(Args.withDescription("the webhook's id (wbh_…)"))

const settings = {
  name: Options.text("name").pipe(Options.withPseudoName("NAME"), Options.withDescription("what the endpoint is, e.g. crm-sync")),
  url: Options.text("url").pipe(Options.withPseudoName("URL"), Options.withDescription("where events are POSTed: https (http only for hosts in ACCT_WEBHOOK_ALLOWED_HOSTS)")),
  events: Options.text("event").pipe(Options.withPseudoName("EVENT"), Options.withDescription("an event name to deliver (repeat), or * for all, e.g. account.created"), Options.repeated),
  description: Options.text("description").pipe(Options.withPseudoName("TEXT"), Options.withDescription("what the endpoint is for, for people reading the list"), Options.optional),
  inflection: Options.text("inflection").pipe(
    Options.withPseudoName("INFLECTION"),
    Options.withDescription("key inflection of the bodies: kebab (default), camel or snake"),
    Options.mapEffect((text) =>
      Schema.is(KeyInflection)(text) ? Effect.succeed(text) : Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--inflection: expected kebab, camel or snake, got ${JSON.stringify(text)}`)))
    ),
    Options.optional
  ),
  blocklist: Options.text("blocklist").pipe(Options.withPseudoName("ATTRIBUTE"), Options.withDescription("an attribute left out of bodies (repeat): name-last, address-*, /data/attributes/fields/*-number"), Options.repeated)
}

const create = Command.make(
  "create",
  { ...common, ...settings, enable: Options.boolean("enable").pipe(Options.withDescription("enable it at once (a new webhook starts disabled)")) },
  (o) =>
    Effect.gen(function* () {
      const webhooks = yield* Webhooks
      const made = yield* webhooks.create({
        name: o.name,
        url: o.url,
        enabledEvents: o.events,
        description: Option.getOrUndefined(o.description),
        keyInflection: Option.getOrUndefined(o.inflection),
        attributesBlocklist: o.blocklist
      })
      const result = o.enable ? { ...made, webhook: yield* webhooks.setStatus(made.webhook.id, "enabled") } : made
      yield* output(o.json, () => ({ ...webhookJson(result.webhook), secret: result.secrets[0]!.value }), () => withSecret(result, "Signing secret"))
    })
).pipe(
  Command.withDescription(
    "Create a webhook endpoint. It starts disabled unless --enable; the signing secret is printed once.\n\nExample:\n  acct webhooks create --name crm --url https://crm.example.com/hooks/acct --event account.created --event account.status-updated --enable"
  ),
  withWebhooksBackend
)

const list = Command.make("list", common, (o) =>
  Effect.gen(function* () {
    const webhooks = yield* Webhooks
    const all: Array<Webhook> = []
    let after: string | undefined
    do {
      const page = yield* webhooks.list({ size: 100, after })
      all.push(...page.items)
      after = page.next ?? undefined
    } while (after !== undefined)
    yield* output(o.json, () => ({ data: all.map(webhookJson) }), () =>
      all.length === 0 ? "No webhooks." : table(["ID", "NAME", "STATUS", "URL", "EVENTS"], all.map((w) => [w.id, w.name, w.status, w.url, w.enabledEvents.join(",")]))
    )
  })
).pipe(Command.withDescription("List webhook endpoints, newest first (never their secrets)."), withWebhooksBackend)

const show = Command.make("show", { ...common, webhook: webhookArg }, (o) =>
  Effect.flatMap(Effect.flatMap(Webhooks, (w) => w.get(o.webhook)), (w) => output(o.json, () => webhookJson(w), () => webhookDetails(w)))
).pipe(Command.withDescription("Show a webhook endpoint."), withWebhooksBackend)

const update = Command.make(
  "update",
  {
    ...common,
    webhook: webhookArg,
    name: settings.name.pipe(Options.optional),
    url: settings.url.pipe(Options.optional),
    events: settings.events,
    description: settings.description,
    inflection: settings.inflection,
    blocklist: settings.blocklist
  },
  (o) =>
    Effect.gen(function* () {
      const w = yield* Effect.flatMap(Webhooks, (webhooks) =>
        webhooks.update(o.webhook, {
          name: Option.getOrUndefined(o.name),
          url: Option.getOrUndefined(o.url),
          enabledEvents: o.events.length > 0 ? o.events : undefined,
          description: Option.getOrUndefined(o.description),
          keyInflection: Option.getOrUndefined(o.inflection),
          attributesBlocklist: o.blocklist.length > 0 ? o.blocklist : undefined
        })
      )
      yield* output(o.json, () => webhookJson(w), () => `Updated ${w.id}.\n${webhookDetails(w)}`)
    })
).pipe(Command.withDescription("Change a webhook's settings; options left out stay as they are (--event and --blocklist replace the whole list).\n\nExample:\n  acct webhooks update wbh_… --event '*'"), withWebhooksBackend)

const status = (name: "enable" | "disable" | "archive", to: "enabled" | "disabled" | "archived", description: string) =>
  Command.make(name, { ...common, webhook: webhookArg }, (o) =>
    Effect.flatMap(Effect.flatMap(Webhooks, (w) => w.setStatus(o.webhook, to)), (w) => output(o.json, () => webhookJson(w), () => `${w.id} (${w.name}) is ${w.status}.`))
  ).pipe(Command.withDescription(description), withWebhooksBackend)

const clone = Command.make("clone", { ...common, webhook: webhookArg }, (o) =>
  Effect.flatMap(Effect.flatMap(Webhooks, (w) => w.clone(o.webhook)), (made) =>
    output(o.json, () => ({ ...webhookJson(made.webhook), secret: made.secrets[0]!.value }), () => withSecret(made, "Signing secret of the clone"))
  )
).pipe(Command.withDescription("Copy a webhook's settings into a new, disabled webhook with its own secret (printed once)."), withWebhooksBackend)

const rotate = Command.make(
  "rotate-secret",
  {
    ...common,
    webhook: webhookArg,
    grace: Options.integer("grace").pipe(Options.withPseudoName("SECONDS"), Options.withDescription("how long the previous secret still signs deliveries (default 86400)"), Options.optional)
  },
  (o) =>
    Effect.gen(function* () {
      const made = yield* Effect.flatMap(Webhooks, (w) => w.rotateSecret(o.webhook, Option.getOrUndefined(o.grace)))
      yield* output(o.json, () => ({ ...webhookJson(made.webhook), secret: made.secrets[0]!.value }), () => withSecret(made, "New signing secret (the previous one keeps signing during the grace period)"))
    })
).pipe(Command.withDescription("Make a new signing secret. Until the grace period ends each delivery carries both signatures, so receivers can switch without losing any."), withWebhooksBackend)

const rekey = Command.make("rekey", local, (o) =>
  Effect.gen(function* () {
    const count = yield* Effect.flatMap(WebhookSecrets, (w) => w.reencrypt())
    yield* o.json ? Console.log(JSON.stringify({ reencrypted: count })) : Console.log(`Re-encrypted ${count} secret(s) with the first key of ACCT_WEBHOOK_KEY.`)
  })
).pipe(
  Command.withDescription(
    "Re-encrypt every stored signing secret with the current key, after changing ACCT_WEBHOOK_KEY.\n\nExample (rotating the key):\n  ACCT_WEBHOOK_KEY=\"$(openssl rand -base64 32),$OLD_KEY\" acct webhooks rekey\n  then set ACCT_WEBHOOK_KEY to the new key alone."
  ),
  withWebhooks
)

const deliveries = Command.make(
  "deliveries",
  { ...common, webhook: webhookArg, size: Options.integer("size").pipe(Options.withPseudoName("N"), Options.withDescription("how many attempts, 1–100 (default 20)"), Options.withDefault(20)) },
  (o) =>
    Effect.gen(function* () {
      if (!Number.isInteger(o.size) || o.size < 1 || o.size > 100) return yield* new InvalidRequest({ message: "--size must be an integer from 1 to 100" })
      const webhook = yield* Effect.flatMap(Webhooks, (w) => w.get(o.webhook))
      const rows = yield* Effect.flatMap(WebhookDeliveries, (d) => d.attempts(webhook.id, o.size))
      yield* output(
        o.json,
        () => ({ data: rows.map((a) => ({ ...a, startedAt: a.startedAt.toISOString() })) }),
        () =>
          rows.length === 0
            ? `No delivery attempts to ${webhook.id} yet.`
            : table(
                ["AT", "EVENT", "ATTEMPT", "STATUS", "MS", "ANSWER"],
                rows.map((a) => [a.startedAt.toISOString(), a.eventId, String(a.attempt), a.status === null ? "-" : String(a.status), String(a.durationMs), (a.error ?? a.response ?? "").replace(/\s+/g, " ").slice(0, 60) || "-"])
              )
      )
    })
).pipe(Command.withDescription("Show a webhook's latest delivery attempts, newest first: when, the status (or why there was none), how long, the start of the answer."), withWebhooksBackend)

const dispatch = Command.make("dispatch", { db: local.db }, () =>
  Effect.gen(function* () {
    const { dispatcherOptions, runDispatcher } = yield* webhooksModule
    const options = yield* dispatcherOptions
    yield* Console.error("Delivering webhooks (Ctrl-C to stop)…")
    return yield* Effect.scoped(runDispatcher(options))
  })
).pipe(
  Command.withDescription(
    "Run the webhook dispatcher in this process until stopped: a worker apart from the server (start the server with ACCT_WEBHOOK_DISPATCH=false then). On Postgres several may run: they share the work."
  ),
  withWebhooks
)

/** `acct events replay`: one event, or everything since a time, delivered again. */
export const replayCommand = Command.make(
  "replay",
  {
    ...common,
    event: Args.text({ name: "event" }).pipe(Args.withDescription("the event's id (evt_…)"), Args.optional),
    since: Options.text("since").pipe(Options.withPseudoName("TIME"), Options.withDescription("every event at or after this date or ISO time"), Options.optional),
    webhook: Options.text("webhook").pipe(Options.withPseudoName("WEBHOOK"), Options.withDescription("only to this webhook (wbh_…); else to every enabled webhook that wants the event"), Options.optional)
  },
  (o) =>
    Effect.gen(function* () {
      if (Option.isSome(o.event) === Option.isSome(o.since)) return yield* new InvalidRequest({ message: "give an event id or --since TIME (one of them)" })
      const since = Option.isSome(o.since) ? yield* parseTime("--since", o.since.value) : undefined
      const done = yield* Effect.flatMap(WebhookDeliveries, (d) => d.replay({ eventId: Option.getOrUndefined(o.event), since, webhookId: Option.getOrUndefined(o.webhook) }))
      yield* output(o.json, () => done, () => `Queued ${done.deliveries} delivery(ies) of ${done.events} event(s); the dispatcher sends them (same webhook-id as the first time).`)
    })
).pipe(
  Command.withDescription("Send events again: one (acct events replay evt_…) or all since a time (acct events replay --since 2026-12-01T09:00:00Z), to their webhooks or to one (--webhook wbh_…)."),
  withWebhooksBackend
)

export const webhooksCommands = [
  create,
  list,
  show,
  update,
  status("enable", "enabled", "Enable a webhook: events committed from now on are delivered to it."),
  status("disable", "disabled", "Disable a webhook: nothing more is delivered to it."),
  status("archive", "archived", "Archive a webhook for good (it cannot be enabled again; clone it instead)."),
  clone,
  rotate,
  rekey,
  deliveries,
  dispatch
] as const

export const webhooksCommand = Command.make("webhooks").pipe(Command.withDescription("Webhook endpoints: signed POSTs of account events."), Command.withSubcommands([...webhooksCommands]))
