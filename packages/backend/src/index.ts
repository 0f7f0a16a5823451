/**
 * Where accounts live, decided in one place for the server, the CLI and the Slack app, from
 * Effect `Config` (the environment by default; a test may provide its own ConfigProvider):
 *
 *   ACCT_URL + ACCT_API_KEY          an acct server (front ends only: the CLI and Slack)
 *   ACCT_PROFILE                     a profile of acct.config.yaml (or the file in ACCT_CONFIG)
 *   ACCT_PROVIDER and its variables  the simple case: local, remote, persona or softwareone
 *   the config file's `default`      …
 *   ACCT_DATABASE                    else a local SQLite file or a postgres:// URL (.acct/acct.db)
 *
 * An app's own flags (`--remote`, `--profile`, `--db`) override the matching setting. Nothing
 * heavy is imported here: the SQLite/Postgres store and the HTTP clients are loaded (dynamic
 * import) only when the choice needs them, so a command on a local file never loads a client.
 */
import type { Accounts, AccountsError, ApiKeys, Events, IdOwner, WebhookDeliveries, Webhooks } from "@acct/core"
import type { EventFeed } from "@acct/store-sql"
import type { MustExist } from "@acct/store-sql/sqlite"
import { InvalidRequest } from "@acct/core"
import type { Profile } from "@acct/client"
import { ACCT_SERVER_IDS } from "@acct/client/server-ids"
import { isPostgresUrl } from "@acct/store-sql/database-url"
import { findConfigFile } from "@acct/client/config-file"
import type { HttpClient } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import { Config, type ConfigError, Context, type Duration, Effect, Either, Layer, Option, Redacted } from "effect"
import { readFileSync } from "node:fs"

export const DEFAULT_DATABASE = ".acct/acct.db"

/** What an app asks for; every field left out is read from Config. */
export interface BackendRequest {
  /**
   * The app is a front end that may talk to an acct server (the CLI, Slack): `remote`, else
   * ACCT_URL, picks one. The server itself never reads ACCT_URL (it is the acct server).
   */
  readonly frontEnd: boolean
  /** An acct server URL (the CLI's --remote). */
  readonly remote?: string | undefined
  /** A profile name (the CLI's --profile); else ACCT_PROFILE. */
  readonly profile?: string | undefined
  /** The local database (the CLI's --db); else ACCT_DATABASE, else .acct/acct.db. */
  readonly database?: string | undefined
  /**
   * A local SQLite database must exist already, and is never created (the CLI, where only
   * `init` makes one): a missing one is refused with how to create it at the chosen path.
   */
  readonly mustExist?: ((database: string) => MustExist) | undefined
}

export type { MustExist }

/** An upstream that serves the accounts: an acct server, Persona or SoftwareOne. */
export type UpstreamProfile = Exclude<Profile, { readonly provider: "local" }>

export type Backend =
  | { readonly kind: "local"; readonly database: string; readonly describe: string; readonly mustExist?: MustExist | undefined }
  /** `database` still holds what the app keeps for itself (the server's API keys). */
  | { readonly kind: "upstream"; readonly profile: UpstreamProfile; readonly database: string; readonly describe: string }

/**
 * Whose ids a backend's records carry (core ids.ts `IdOwner`), which is how an app reads an id a
 * person names: acct's own on the local store, refused at once when not of acct's pattern; an
 * upstream's otherwise (Persona and SoftwareOne make their own), passed on for the upstream to
 * judge; and for an acct server, what @acct/client says its ids are (a gateway answers with its
 * upstream's).
 */
export const idOwnerOf = (backend: Backend): IdOwner => (backend.kind === "local" ? "acct" : backend.profile.provider === "remote" ? ACCT_SERVER_IDS : "upstream")

/** The chosen backend's `idOwnerOf`, for the code that reads the ids people name. */
export class BackendIds extends Context.Tag("@acct/backend/BackendIds")<BackendIds, IdOwner>() {}

/** The environment variables a profile may name, and the fixed ones, read through Config. */
const FIXED = [
  "ACCT_CONFIG",
  "ACCT_PROVIDER",
  "ACCT_DATABASE",
  "ACCT_URL",
  "ACCT_API_KEY",
  "ACCT_PERSONA_API_KEY",
  "ACCT_PERSONA_URL",
  "ACCT_SOFTWAREONE_URL",
  "ACCT_SOFTWAREONE_TOKEN"
] as const

const readVariables = (names: ReadonlyArray<string>) =>
  Effect.map(
    Effect.forEach(names, (name) => Effect.map(Config.option(Config.string(name)), (value) => [name, Option.getOrUndefined(value)] as const)),
    (entries) => Object.fromEntries(entries) as Record<string, string | undefined>
  )

/** The secret variables a config file's profiles name (apiKeyEnv / tokenEnv), to read through Config. */
const namedSecrets = (client: typeof import("@acct/client"), file: string): ReadonlyArray<string> => {
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch {
    return [] // resolveProfile reports the unreadable file
  }
  return Either.match(client.parseConfigFile(text, file), {
    onLeft: () => [],
    onRight: (config) => Object.values(config.profiles).flatMap((p) => ("apiKeyEnv" in p ? [p.apiKeyEnv] : "tokenEnv" in p ? [p.tokenEnv] : []))
  })
}

const invalid = (message: string) => Effect.fail(new InvalidRequest({ message }))

/** Decides where accounts live (see the module comment). Loads @acct/client only for a profile. */
export const resolveBackend = (request: BackendRequest): Effect.Effect<Backend, InvalidRequest | ConfigError.ConfigError> =>
  Effect.gen(function* () {
    const env = yield* readVariables(FIXED)
    const database = request.database ?? env.ACCT_DATABASE ?? DEFAULT_DATABASE
    const local = (at: string): Backend => ({ kind: "local", database: at, describe: `local store ${at}`, ...(request.mustExist ? { mustExist: request.mustExist(at) } : {}) })

    const url = request.frontEnd ? (request.remote ?? env.ACCT_URL) : undefined
    if (url !== undefined) {
      const from = request.remote !== undefined ? "--remote" : "ACCT_URL"
      if (!/^https?:\/\/\S+$/.test(url)) return yield* invalid(`${from} must be an http(s) URL, got ${JSON.stringify(url)}`)
      const apiKey = Option.getOrUndefined(yield* Config.option(Config.redacted("ACCT_API_KEY")))
      if (apiKey === undefined || Redacted.value(apiKey) === "") {
        return yield* invalid(`${from} ${url} needs an API key in the environment variable ACCT_API_KEY (create one with \`acct keys create\`)`)
      }
      const base = url.replace(/\/+$/, "")
      return { kind: "upstream", profile: { name: from, provider: "remote", url: base, apiKey: Redacted.value(apiKey) }, database, describe: `acct server ${base}` }
    }

    const profileName = request.profile ?? Option.getOrUndefined(yield* Config.option(Config.string("ACCT_PROFILE")))
    const configFile = findConfigFile(env)
    // Nothing names a profile: stay local without loading the client.
    if (profileName === undefined && env.ACCT_PROVIDER === undefined && configFile === undefined) return local(database)

    const client = yield* Effect.promise(() => import("@acct/client"))
    const secrets = configFile === undefined ? {} : yield* readVariables(namedSecrets(client, configFile))
    const chosen = yield* Either.match(client.resolveProfile(profileName, { ...secrets, ...env }), { onLeft: Effect.fail, onRight: Effect.succeed })
    if (chosen === undefined) return local(database)
    if (chosen.provider === "local") return local(chosen.database ?? database)
    return { kind: "upstream", profile: chosen, database, describe: `${chosen.provider} profile ${chosen.name}` }
  })

export interface LocalStoreOptions {
  /** Postgres only: connections per process, and the longest a statement may run. */
  readonly maxConnections?: number | undefined
  readonly statementTimeoutMs?: number | undefined
  /** Postgres only: how long a start keeps trying while Postgres is unreachable (default: one try). */
  readonly connectRetryWindow?: Duration.DurationInput | undefined
  /** SQLite only: refuse (InvalidRequest) instead of creating a new database file. */
  readonly mustExist?: MustExist | undefined
}

/**
 * The local store (SQLite file or postgres:// URL). Only its driver's module loads, when the
 * layer is built: a command on an SQLite file never loads node-postgres.
 */
export const localStore = (database: string, options: LocalStoreOptions = {}): Layer.Layer<Accounts | Events | EventFeed | ApiKeys | SqlClient.SqlClient, AccountsError> =>
  Layer.unwrapEffect(
    isPostgresUrl(database)
      ? Effect.map(Effect.promise(() => import("@acct/store-sql/postgres")), (pg) => pg.PostgresStore({ ...options, url: database }))
      : Effect.flatMap(Effect.promise(() => import("@acct/store-sql/sqlite")), (sqlite) =>
          Effect.as(options.mustExist ? sqlite.requireSqliteFile(database, options.mustExist) : Effect.void, sqlite.SqliteStore({ filename: database }))
        )
  )

/** An upstream's Accounts over HTTP (fetch unless told otherwise); the client loads when built. */
export const upstreamAccounts = (profile: UpstreamProfile, httpClient?: Layer.Layer<HttpClient.HttpClient>): Layer.Layer<Accounts> =>
  Layer.unwrapEffect(
    Effect.map(Effect.promise(() => import("@acct/client")), (client) =>
      client.remoteAccounts(profile, ...(httpClient ? [httpClient] : []))
    )
  )

type LocalBackend = Extract<Backend, { readonly kind: "local" }>

/** A local backend's store, held to the resolver's `mustExist`. */
const localBackendStore = (backend: LocalBackend) => localStore(backend.database, backend.mustExist ? { mustExist: backend.mustExist } : {})

/** The Accounts of a backend: the local store, or the upstream. */
export const backendAccounts = (backend: Backend, httpClient?: Layer.Layer<HttpClient.HttpClient>): Layer.Layer<Accounts, AccountsError> =>
  backend.kind === "local" ? localBackendStore(backend) : upstreamAccounts(backend.profile, httpClient)

/**
 * The events of a backend: the local store's, or an acct server's. A Persona or SoftwareOne
 * upstream has no acct events (acct writes events for the changes it commits itself).
 */
export const backendEvents = (backend: Backend, httpClient?: Layer.Layer<HttpClient.HttpClient>): Layer.Layer<Events, AccountsError> => {
  if (backend.kind === "local") return localBackendStore(backend)
  const profile = backend.profile
  if (profile.provider !== "remote") {
    return Layer.fail(new InvalidRequest({ message: `events are kept by acct: read them from a local database (--db) or an acct server (--remote); the ${profile.provider} profile ${profile.name} has none` }))
  }
  return Layer.unwrapEffect(Effect.map(Effect.promise(() => import("@acct/client")), (client) => client.remoteEvents(profile, ...(httpClient ? [httpClient] : []))))
}

/** Accounts and their events from one backend: one local store for both, or the upstream's. */
export const backendWithEvents = (backend: Backend, httpClient?: Layer.Layer<HttpClient.HttpClient>): Layer.Layer<Accounts | Events, AccountsError> =>
  backend.kind === "local" ? localBackendStore(backend) : Layer.merge(backendAccounts(backend, httpClient), backendEvents(backend, httpClient))

/**
 * The webhooks of a backend that is an acct server (endpoints, attempts, replays over its API).
 * A local database's come from @acct/webhooks instead (they need its key and its queue).
 */
export const remoteWebhooks = (backend: Extract<Backend, { readonly kind: "upstream" }>, httpClient?: Layer.Layer<HttpClient.HttpClient>): Layer.Layer<Webhooks | WebhookDeliveries, AccountsError> => {
  const profile = backend.profile
  if (profile.provider !== "remote") {
    return Layer.fail(new InvalidRequest({ message: `webhooks are kept by acct: manage them on a local database (--db) or an acct server (--remote); the ${profile.provider} profile ${profile.name} has none` }))
  }
  return Layer.unwrapEffect(Effect.map(Effect.promise(() => import("@acct/client")), (client) => client.remoteWebhooks(profile, ...(httpClient ? [httpClient] : []))))
}
