/**
 * `acct events list|show`: what every committed change told the world (the events the API
 * serves and webhooks deliver), from a local database or through an acct server.
 */
import { type AccountId, Accounts, type AccountsError, EventId, Events, InvalidRequest } from "@acct/core"
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { accountArg, common, listOptions, output, parseTime, withEventsBackend } from "../context.js"
import { eventDetails, eventTable, json } from "../render.js"
import { replayCommand } from "./webhooks.js"

/** `--account`: an id as given (archived accounts too), a reference id looked up. */
const accountIdOf = (text: string) =>
  Effect.flatMap(accountArg(text), (ref): Effect.Effect<AccountId, AccountsError, Accounts> =>
    "id" in ref ? Effect.succeed(ref.id) : Effect.map(Effect.flatMap(Accounts, (a) => a.get(ref)), (a) => a.id)
  )

const eventsList = Command.make(
  "list",
  {
    ...common,
    name: Options.text("name").pipe(
      Options.withPseudoName("NAME"),
      Options.withDescription("only events of this name (account.tag-added, workflow-run.created, a catalog's own); repeat it or separate names with commas"),
      Options.repeated
    ),
    ...listOptions("events", ", its runs' included", { name: "EVENT", description: "the page after this event id (from `More:`)" })
  },
  (o) =>
    Effect.gen(function* () {
      const names = o.name.flatMap((n) => n.split(",")).map((n) => n.trim()).filter((n) => n !== "")
      const accountId = Option.isSome(o.account) ? yield* accountIdOf(o.account.value) : undefined
      const since = Option.isSome(o.since) ? yield* parseTime("--since", o.since.value) : undefined
      const page = yield* Effect.flatMap(Events, (events) => events.list({ names, accountId, since, size: o.size, after: Option.getOrUndefined(o.after) }))
      const again = [...names.map((n) => `--name ${n}`), ...(Option.isSome(o.account) ? [`--account ${o.account.value}`] : []), ...(Option.isSome(o.since) ? [`--since ${o.since.value}`] : [])]
      yield* output(o.json, () => json.page(page, json.event), () =>
        page.items.length === 0
          ? "No events match."
          : [eventTable(page.items), ...(page.next ? [`\nMore: acct events list ${[...again, `--after ${page.next}`].join(" ")}`] : [])].join("\n")
      )
    })
).pipe(
  Command.withDescription(`List events, newest first: every committed change's Persona account events (account.created, account.tag-added, account.status-updated …), workflow-run.created for each run, and the catalog's emit-event names, each with what changed, the run and the actor. A refused change has none. Kept ACCT_EVENT_RETENTION (default 90 days).

Examples:
  acct events list --account abc-123
  acct events list --name account.status-updated --since 2026-12-01
  acct events list --name account.tag-added,account.tag-removed --json`),
  withEventsBackend
)

const eventsShow = Command.make("show", { ...common, event: Args.text({ name: "event" }).pipe(Args.withDescription("an evt_… id (from `acct events list`)")) }, (o) =>
  Effect.gen(function* () {
    if (!EventId.is(o.event)) {
      return yield* new InvalidRequest({ message: `expected an event id ("evt_" followed by 24–28 letters or digits, from \`acct events list\`), got ${JSON.stringify(o.event.slice(0, 60))}` })
    }
    const event = yield* Effect.flatMap(Events, (events) => events.get(o.event as EventId))
    yield* output(o.json, () => json.event(event), () => eventDetails(event))
  })
).pipe(
  Command.withDescription(`Show one event: its name, the object as it was right after the change, and the context (tags added and removed, status before → after, run, actor, channel).

Example:
  acct events show evt_…`),
  withEventsBackend
)

export const eventsCommand = Command.make("events").pipe(
  Command.withDescription("Events: what every committed change told the world (the API's /events, webhook deliveries); replay sends them to webhooks again."),
  Command.withSubcommands([eventsList, eventsShow, replayCommand])
)
