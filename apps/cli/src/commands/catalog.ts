import { Accounts, type ActionRunId } from "@acct/core"
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { accountArg, common, output, withBackend } from "../context.js"
import { localRunReason } from "../run-reason.js"
import { actionDetails, actionTable, json, runDetails, runTable, typeDetails, typeTable } from "../render.js"

const typesList = Command.make("list", common, (o) =>
  Effect.gen(function* () {
    const types = yield* Effect.flatMap(Accounts, (a) => a.listTypes())
    yield* output(o.json, () => ({ data: types.map(json.type) }), () => (types.length > 0 ? typeTable(types) : "No account types. Load a catalog: acct init --catalog FILE (or --demo)."))
  })
).pipe(Command.withDescription("List account types."), withBackend)

const typesShow = Command.make("show", { ...common, type: Args.text({ name: "type" }).pipe(Args.withDescription("id (acttp_…) or name")) }, (o) =>
  Effect.gen(function* () {
    const type = yield* Effect.flatMap(Accounts, (a) => a.getType(o.type))
    yield* output(o.json, () => json.type(type), () => typeDetails(type))
  })
).pipe(Command.withDescription("Show an account type: fields, statuses and the lifecycle mapping.\n\nExample:\n  acct types show User"), withBackend)

const actionsList = Command.make(
  "list",
  { ...common, type: Options.text("type").pipe(Options.withDescription("only actions of this account type"), Options.optional) },
  (o) =>
    Effect.gen(function* () {
      const actions = yield* Effect.flatMap(Accounts, (a) => a.listActions({ accountType: Option.getOrUndefined(o.type) }))
      yield* output(o.json, () => ({ data: actions.map(json.action) }), () => (actions.length > 0 ? actionTable(actions) : "No actions."))
    })
).pipe(Command.withDescription("List account actions with their parameters (name:type, ? = optional)."), withBackend)

const actionsShow = Command.make("show", { ...common, action: Args.text({ name: "action" }).pipe(Args.withDescription("id (accac_…) or name")) }, (o) =>
  Effect.gen(function* () {
    const action = yield* Effect.flatMap(Accounts, (a) => a.getAction(o.action))
    yield* output(o.json, () => json.action(action), () => actionDetails(action))
  })
).pipe(Command.withDescription("Show an account action: parameters and steps.\n\nExample:\n  acct actions show 'Set status'"), withBackend)

const runsList = Command.make(
  "list",
  {
    ...common,
    account: Options.text("account").pipe(Options.withDescription("only runs on this account (id or reference id)"), Options.optional),
    size: Options.integer("size").pipe(Options.withDescription("page size, 1–100"), Options.withDefault(10)),
    after: Options.text("after").pipe(Options.withDescription("the page after this run id"), Options.optional),
    before: Options.text("before").pipe(Options.withDescription("the page before this run id"), Options.optional)
  },
  (o) =>
    Effect.gen(function* () {
      const account = Option.isSome(o.account) ? yield* accountArg(o.account.value) : undefined
      const page = yield* Effect.flatMap(Accounts, (a) =>
        a.listRuns({ account, size: o.size, after: Option.getOrUndefined(o.after), before: Option.getOrUndefined(o.before) })
      )
      yield* output(o.json, () => json.page(page, json.run), () =>
        page.items.length === 0 ? "No runs." : [runTable(page.items), ...(page.next ? [`\nMore: acct runs list --after ${page.next}`] : [])].join("\n")
      )
    })
).pipe(Command.withDescription("List action and lifecycle runs, newest first.\n\nExample:\n  acct runs list --account abc-123"), withBackend)

const runsShow = Command.make("show", { ...common, run: Args.text({ name: "run" }).pipe(Args.withDescription("a wfr_… id")) }, (o) =>
  Effect.gen(function* () {
    const run = yield* Effect.flatMap(Accounts, (a) => a.getRun(o.run as ActionRunId))
    const reason = (yield* localRunReason(run.id)) ?? null
    yield* output(o.json, () => ({ ...json.run(run), reason }), () => runDetails(run, reason))
  })
).pipe(Command.withDescription("Show one run: who ran it and why, parameters, status change, events, timing."), withBackend)

export const typesCommand = Command.make("types").pipe(Command.withDescription("Account types in the catalog."), Command.withSubcommands([typesList, typesShow]))
export const actionsCommand = Command.make("actions").pipe(Command.withDescription("Account actions in the catalog."), Command.withSubcommands([actionsList, actionsShow]))
export const runsCommand = Command.make("runs").pipe(Command.withDescription("Runs of actions and lifecycle operations (workflow runs)."), Command.withSubcommands([runsList, runsShow]))
