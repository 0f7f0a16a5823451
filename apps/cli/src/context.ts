/**
 * What every command shares: the `--db` and `--json` options, the store layer (imported lazily
 * so `acct --help` never loads SQLite), the CLI user's identity, and printing.
 */
import { type Accounts, type AccountsError, type ApiKeys, type Events, InvalidRequest, type Invocation, parseAccountRef, Principal } from "@acct/core"
import { type Backend, backendAccounts, BackendIds, backendWithEvents, DEFAULT_DATABASE, idOwnerOf, localStore, type MustExist, resolveBackend } from "@acct/backend"
import { Command, Options } from "@effect/cli"
import type { SqlClient } from "@effect/sql"
import { Config, Console, Effect, Either, Layer, Option } from "effect"
import { userInfo } from "node:os"

export const DEFAULT_DB = DEFAULT_DATABASE

export const db = Options.text("db").pipe(
  Options.withPseudoName("PATH|URL"),
  Options.withDescription(`SQLite database file, or a postgres:// URL (env ACCT_DATABASE; default ${DEFAULT_DB})`),
  Options.withFallbackConfig(Config.string("ACCT_DATABASE")),
  Options.withDefault(DEFAULT_DB)
)

export const json = Options.boolean("json").pipe(Options.withDescription("print JSON (for scripts) instead of tables"))

export const remote = Options.text("remote").pipe(
  Options.withPseudoName("URL"),
  Options.withDescription("use the acct server at this URL instead of a local file (env ACCT_URL; the key comes from env ACCT_API_KEY)"),
  Options.withFallbackConfig(Config.string("ACCT_URL")),
  Options.optional
)

export const profile = Options.text("profile").pipe(
  Options.withPseudoName("NAME"),
  Options.withDescription("where the accounts live: a profile from acct.config.yaml (local, remote, persona or softwareone); env ACCT_PROVIDER covers the simple case"),
  Options.optional
)

export const idempotencyKey = Options.text("idempotency-key").pipe(
  Options.withPseudoName("KEY"),
  Options.withDescription("run at most once: repeating the command with the same key replays the first result"),
  Options.optional
)
export const reason = Options.text("reason").pipe(Options.withPseudoName("TEXT"), Options.withDescription("why, for the audit trail"), Options.optional)
export const expectVersion = Options.integer("expect-version").pipe(
  Options.withPseudoName("N"),
  Options.withDescription("refuse (exit 4) unless the account is still at this version"),
  Options.optional
)

/** Options of commands that work on a local database only (init, keys). */
export const local = { db, json }
/** Options shared by every command that reads or changes accounts, locally or on a server. */
export const common = { db, json, remote, profile }
/** Options of every command that changes an account. */
export const mutation = { ...common, idempotencyKey, reason, expectVersion }

/** What a command on a path without a database says (only `init` creates one). */
const mustExistAt = (db: string): MustExist => ({ howToCreate: `create one with \`acct init --db ${db}\` (add --demo for demo data)` })

/**
 * The local store for `--db`. Its module is loaded on first use, keeping start-up light. Only
 * `init` creates a database (`create`): anywhere else a missing file is an error saying how to
 * make one, so a mistyped path or the wrong folder never leaves an empty database behind.
 */
export const store = (db: string, { create = false } = {}): Layer.Layer<Accounts | Events | ApiKeys | SqlClient.SqlClient, AccountsError> =>
  localStore(db, create ? {} : { mustExist: mustExistAt(db) })


/** Gives a command the existing store named by its `--db` option (acct's own ids). */
export const withStore = <Name extends string, R, E, A extends { readonly db: string }>(command: Command.Command<Name, R, E, A>) =>
  Command.provide(command, (options: A) => Layer.merge(store(options.db), Layer.succeed(BackendIds, "acct")))

export interface BackendOptions {
  readonly db: string
  readonly remote: Option.Option<string>
  readonly profile: Option.Option<string>
}

/**
 * Where a command's accounts live (@acct/backend decides, as for the server and Slack):
 * `--remote` / ACCT_URL (an acct server), else `--profile` / ACCT_PROFILE / ACCT_PROVIDER / the
 * config file's default (acct, Persona, SoftwareOne or a local file), else the local `--db`
 * file. Same commands, same output. The HTTP clients are loaded only when used.
 */
export const chooseBackend = (options: BackendOptions) =>
  resolveBackend({ frontEnd: true, remote: Option.getOrUndefined(options.remote), profile: Option.getOrUndefined(options.profile), database: options.db, mustExist: mustExistAt }).pipe(
    Effect.mapError((e) => (e._tag === "InvalidRequest" ? e : new InvalidRequest({ message: `invalid setting: ${String(e)}` })))
  )

/** A chosen backend's layer, with whose ids it carries (for `accountArg`). */
const withIdsOf = <A, E>(chosen: Backend, layer: Layer.Layer<A, E>) => Layer.merge(layer, Layer.succeed(BackendIds, idOwnerOf(chosen)))

export const backend = (options: BackendOptions): Layer.Layer<Accounts | BackendIds, AccountsError> =>
  Layer.unwrapEffect(Effect.map(chooseBackend(options), (chosen) => withIdsOf(chosen, backendAccounts(chosen))))

export const withBackend = <Name extends string, R, E, A extends BackendOptions>(command: Command.Command<Name, R, E, A>) =>
  Command.provide(command, (options: A) => backend(options))

/** Accounts and their events: a local database, or an acct server (other upstreams have no events). */
export const withEventsBackend = <Name extends string, R, E, A extends BackendOptions>(command: Command.Command<Name, R, E, A>) =>
  Command.provide(command, (options: A) =>
    Layer.unwrapEffect(Effect.map(chooseBackend(options), (chosen) => withIdsOf(chosen, backendWithEvents(chosen))))
  )

/** Options of the lists that filter by account and time, a page at a time (audit, events). */
export const listOptions = (what: string, about: string, cursor: { readonly name: string; readonly description: string }) => ({
  account: Options.text("account").pipe(Options.withPseudoName("ACCOUNT"), Options.withDescription(`only ${what} about this account (act_… id or reference id)${about}`), Options.optional),
  since: Options.text("since").pipe(Options.withPseudoName("TIME"), Options.withDescription(`only ${what} at or after this date or ISO time`), Options.optional),
  size: Options.integer("size").pipe(Options.withPseudoName("N"), Options.withDescription("page size, 1–100 (default 10)"), Options.withDefault(10)),
  after: Options.text("after").pipe(Options.withPseudoName(cursor.name), Options.withDescription(cursor.description), Options.optional)
})

/** A `--since`-style option: a date (2026-12-01, midnight UTC) or an ISO time. */
export const parseTime = (option: string, text: string) => {
  const at = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text)
  return Number.isNaN(at.getTime())
    ? Effect.fail(new InvalidRequest({ message: `${option}: expected a date (2026-12-01) or a time (2026-12-01T09:30:00Z), got ${JSON.stringify(text)}` }))
    : Effect.succeed(at)
}

const osUser = (() => {
  try {
    return userInfo().username
  } catch {
    return process.env.USER ?? "unknown"
  }
})()

/** Whoever runs the CLI on a local database owns the file: they act as admin. */
export const cliPrincipal = Principal.make({ actor: { kind: "cli", id: osUser, name: osUser }, scopes: ["admin"] })

export const invocation = (options: {
  readonly idempotencyKey: Option.Option<string>
  readonly reason: Option.Option<string>
  readonly expectVersion: Option.Option<number>
}): Invocation => ({
  principal: cliPrincipal,
  channel: "cli",
  idempotencyKey: Option.getOrUndefined(options.idempotencyKey),
  reason: Option.getOrUndefined(options.reason),
  expectedVersion: Option.getOrUndefined(options.expectVersion)
})

/** An `<account>` argument, its id read as the command's backend makes them (an upstream's own ids included). */
export const accountArg = (text: string) => Effect.flatMap(BackendIds, (owner) => Either.match(parseAccountRef(text, owner), { onLeft: Effect.fail, onRight: Effect.succeed }))

/** Prints JSON for `--json`, text otherwise. */
export const output = (asJson: boolean, data: () => unknown, text: () => string) =>
  asJson ? Console.log(JSON.stringify(data(), null, 2)) : Console.log(text())
