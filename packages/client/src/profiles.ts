/**
 * Where accounts live, by name: profiles in `acct.config.yaml` (or .yml / .json, or the file in
 * ACCT_CONFIG), or for the simple case the environment (ACCT_PROVIDER and friends). A profile
 * names the environment variables that hold its secrets; a config file never holds a secret.
 *
 *   default: persona
 *   profiles:
 *     persona:
 *       provider: persona
 *       apiKeyEnv: PERSONA_API_KEY
 *       actions: { Set status: accac_… }
 *       states: { active: approved, enabled: enabled, disabled: suspended }
 *       lifecycle:
 *         enable: { action: Set status, parameters: { status: approved } }
 *     marketplace: { provider: softwareone, url: https://api.platform.softwareone.com, tokenEnv: SWO_TOKEN }
 *     shared: { provider: remote, url: https://acct.internal, apiKeyEnv: ACCT_API_KEY }
 *     here: { provider: local, database: .acct/acct.db }
 */
import { type Accounts, type Events, InvalidRequest, RetryPolicy, type WebhookDeliveries, type Webhooks } from "@acct/core"
import { decodeDocument, parseDocument } from "@acct/core/document"
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import { Either, Layer, Schema } from "effect"
import { readFileSync } from "node:fs"
import { AccountsHttp } from "./accounts-http.js"
import { CONFIG_FILES, findConfigFile } from "./config-file.js"
import { PERSONA_API, PersonaAccounts, type PersonaOptions } from "./upstream/persona.js"
import { SoftwareOneAccounts } from "./upstream/softwareone.js"

const EnvName = Schema.String.pipe(Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: () => "expected the name of an environment variable" }))
const Url = Schema.String.pipe(Schema.pattern(/^https?:\/\/\S+$/, { message: () => "expected an http(s) URL" }))
const Mapping = Schema.Struct({ action: Schema.String, parameters: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })) })
const StatusName = Schema.NonEmptyTrimmedString
/** Persona's status names for the lifecycle states (see PersonaOptions.states). */
const States = Schema.Struct({ active: StatusName, enabled: StatusName, disabled: StatusName })

export const ProfileConfig = Schema.Union(
  Schema.Struct({ provider: Schema.Literal("local"), database: Schema.optional(Schema.String) }),
  Schema.Struct({ provider: Schema.Literal("remote"), url: Url, apiKeyEnv: EnvName }),
  Schema.Struct({
    provider: Schema.Literal("persona"),
    url: Schema.optional(Url),
    apiKeyEnv: EnvName,
    actions: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
    lifecycle: Schema.optional(
      Schema.Struct({ enable: Schema.optional(Mapping), disable: Schema.optional(Mapping), activate: Schema.optional(Mapping), deactivate: Schema.optional(Mapping) })
    ),
    states: Schema.optional(States)
  }),
  Schema.Struct({ provider: Schema.Literal("softwareone"), url: Url, tokenEnv: EnvName })
)
export type ProfileConfig = typeof ProfileConfig.Type

export const ConfigFile = Schema.Struct({
  default: Schema.optional(Schema.String),
  profiles: Schema.Record({ key: Schema.String, value: ProfileConfig })
})
export type ConfigFile = typeof ConfigFile.Type

/** A profile with its secrets read from the environment: ready to connect. */
export type Profile =
  | { readonly name: string; readonly provider: "local"; readonly database?: string | undefined }
  | { readonly name: string; readonly provider: "remote"; readonly url: string; readonly apiKey: string }
  | {
      readonly name: string
      readonly provider: "persona"
      readonly url: string
      readonly apiKey: string
      readonly actions?: Readonly<Record<string, string>> | undefined
      readonly lifecycle?: PersonaOptions["lifecycle"]
      readonly states?: PersonaOptions["states"]
    }
  | { readonly name: string; readonly provider: "softwareone"; readonly url: string; readonly token: string }

const SECRET_KEYS = ["apiKey", "api_key", "token", "password", "secret"]

const invalid = (message: string) => Either.left(new InvalidRequest({ message }))

/** Refuses secrets written into a config file, naming where. */
const findSecret = (value: unknown, at: string): string | undefined => {
  if (value === null || typeof value !== "object") return undefined
  for (const [key, inner] of Object.entries(value)) {
    const here = at ? `${at}.${key}` : key
    if (SECRET_KEYS.includes(key) && typeof inner === "string") return here
    const deeper = findSecret(inner, here)
    if (deeper) return deeper
  }
  return undefined
}

export const parseConfigFile = (text: string, source: string): Either.Either<ConfigFile, InvalidRequest> => {
  return Either.flatMap(parseDocument(text, source), (raw) => {
    const secret = findSecret(raw, "")
    if (secret) return invalid(`${source}: ${secret} holds a secret; config files name an environment variable instead (apiKeyEnv / tokenEnv)`)
    return decodeDocument(ConfigFile, raw, source)
  })
}

const secretFrom = (env: Readonly<Record<string, string | undefined>>, name: string, profile: string) => {
  const value = env[name]
  return value ? Either.right(value) : invalid(`profile ${JSON.stringify(profile)} needs its secret in the environment variable ${name}, which is not set`)
}

/** A configured profile with its secrets. */
export const connect = (name: string, config: ProfileConfig, env: Readonly<Record<string, string | undefined>>): Either.Either<Profile, InvalidRequest> => {
  switch (config.provider) {
    case "local":
      return Either.right({ name, provider: "local", database: config.database })
    case "remote":
      return Either.map(secretFrom(env, config.apiKeyEnv, name), (apiKey) => ({ name, provider: "remote" as const, url: config.url, apiKey }))
    case "persona":
      return Either.map(secretFrom(env, config.apiKeyEnv, name), (apiKey) => ({
        name,
        provider: "persona" as const,
        url: config.url ?? PERSONA_API,
        apiKey,
        actions: config.actions,
        lifecycle: config.lifecycle,
        states: config.states
      }))
    case "softwareone":
      return Either.map(secretFrom(env, config.tokenEnv, name), (token) => ({ name, provider: "softwareone" as const, url: config.url, token }))
  }
}

/** The simple case: ACCT_PROVIDER with its variables. */
const fromEnv = (env: Readonly<Record<string, string | undefined>>): Either.Either<Profile, InvalidRequest> => {
  const provider = env.ACCT_PROVIDER
  const need = (variable: string) => (env[variable] ? Either.right(env[variable]!) : invalid(`ACCT_PROVIDER=${provider} needs ${variable}`))
  switch (provider) {
    case "local":
      return Either.right({ name: "env", provider: "local", database: env.ACCT_DATABASE })
    case "remote":
      return Either.all([need("ACCT_URL"), need("ACCT_API_KEY")]).pipe(Either.map(([url, apiKey]) => ({ name: "env", provider: "remote" as const, url, apiKey })))
    case "persona":
      return Either.map(need("ACCT_PERSONA_API_KEY"), (apiKey) => ({ name: "env", provider: "persona" as const, url: env.ACCT_PERSONA_URL ?? PERSONA_API, apiKey }))
    case "softwareone":
      return Either.all([need("ACCT_SOFTWAREONE_URL"), need("ACCT_SOFTWAREONE_TOKEN")]).pipe(
        Either.map(([url, token]) => ({ name: "env", provider: "softwareone" as const, url, token }))
      )
    default:
      return invalid(`ACCT_PROVIDER must be local, remote, persona or softwareone, got ${JSON.stringify(provider)}`)
  }
}

/**
 * The profile to use: `--profile NAME` from the config file; else ACCT_PROVIDER; else the config
 * file's `default`; else none (the caller's own default: the local database).
 */
export const resolveProfile = (
  name: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd = process.cwd()
): Either.Either<Profile | undefined, InvalidRequest> => {
  if (name === undefined && env.ACCT_PROVIDER !== undefined) return fromEnv(env)
  const file = findConfigFile(env, cwd)
  if (file === undefined) {
    return name === undefined ? Either.right(undefined) : invalid(`--profile ${name}: no config file (looked for ACCT_CONFIG, then ${CONFIG_FILES.join(", ")} in ${cwd})`)
  }
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (e) {
    return invalid(`cannot read ${file}: ${(e as Error).message}`)
  }
  return Either.flatMap(parseConfigFile(text, file), (config) => {
    const chosen = name ?? config.default
    if (chosen === undefined) return Either.right(undefined)
    const profile = config.profiles[chosen]
    if (profile === undefined) return invalid(`no profile ${JSON.stringify(chosen)} in ${file}; it has ${Object.keys(config.profiles).join(", ") || "none"}`)
    return connect(chosen, profile, env)
  })
}

/** The Accounts of a remote profile, with the default retry policy, on fetch unless told otherwise. */
export const remoteAccounts = (profile: Exclude<Profile, { provider: "local" }>, httpClient: Layer.Layer<HttpClient.HttpClient> = FetchHttpClient.layer): Layer.Layer<Accounts> => {
  const layer =
    profile.provider === "remote"
      ? AccountsHttp.layer({ baseUrl: profile.url, apiKey: profile.apiKey })
      : profile.provider === "persona"
        ? PersonaAccounts.layer({ baseUrl: profile.url, apiKey: profile.apiKey, actions: profile.actions, lifecycle: profile.lifecycle, states: profile.states })
        : SoftwareOneAccounts.layer({ baseUrl: profile.url, token: profile.token })
  return layer.pipe(Layer.provide([httpClient, RetryPolicy.Default]))
}

/**
 * The events of an acct server (a `remote` profile). Persona and SoftwareOne profiles have none
 * here: acct writes events for the changes it commits itself.
 */
export const remoteEvents = (profile: Extract<Profile, { provider: "remote" }>, httpClient: Layer.Layer<HttpClient.HttpClient> = FetchHttpClient.layer): Layer.Layer<Events> =>
  AccountsHttp.eventsLayer({ baseUrl: profile.url, apiKey: profile.apiKey }).pipe(Layer.provide([httpClient, RetryPolicy.Default]))

/** The webhooks of an acct server (a `remote` profile): endpoints, their attempts, replays. */
export const remoteWebhooks = (profile: Extract<Profile, { provider: "remote" }>, httpClient: Layer.Layer<HttpClient.HttpClient> = FetchHttpClient.layer): Layer.Layer<Webhooks | WebhookDeliveries> =>
  AccountsHttp.webhooksLayer({ baseUrl: profile.url, apiKey: profile.apiKey }).pipe(Layer.provide([httpClient, RetryPolicy.Default]))
