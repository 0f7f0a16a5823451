/**
 * `acct doctor`: is this profile usable? Checks, in order, that it resolves (secrets present),
 * that the service answers, that the credentials are accepted, which version answers, and how
 * much rate-limit headroom is left. Each check says what it saw; the exit code is the first
 * failure's (5 credentials, 6 unreachable, 2 configuration).
 */
import { Accounts } from "@acct/core"
import { Command } from "@effect/cli"
import { Config, Console, Effect, Either, Option } from "effect"
import { ExitCode, exitCodeFor } from "../exit-codes.js"
import { common, store } from "../context.js"
import { table } from "../table.js"

interface Check {
  readonly check: string
  readonly ok: boolean
  readonly detail: string
}

/** What one authenticated read tells: status, time taken, rate-limit headers. */
const probe = (url: string, headers: Record<string, string>) =>
  Effect.tryPromise({
    try: async () => {
      const started = performance.now()
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) })
      await response.arrayBuffer()
      return { status: response.status, ms: Math.round(performance.now() - started), headers: response.headers }
    },
    catch: (e) => (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message
  })

const headroom = (headers: Headers): Check => {
  const limit = headers.get("ratelimit-limit")
  const remaining = headers.get("ratelimit-remaining")
  const reset = headers.get("ratelimit-reset")
  if (limit === null || remaining === null) return { check: "rate limit", ok: true, detail: "not reported by the service" }
  const low = Number(remaining) < Number(limit) * 0.1
  return { check: "rate limit", ok: !low, detail: `${remaining} of ${limit} requests left${reset !== null ? `, window resets in ${reset} s` : ""}${low ? " — nearly exhausted" : ""}` }
}

const versionOf = (url: string) =>
  Effect.promise(() =>
    fetch(`${url}/openapi.json`, { signal: AbortSignal.timeout(5_000) })
      .then((r) => (r.ok ? (r.json() as Promise<{ info?: { version?: string } }>) : undefined))
      .then((doc) => doc?.info?.version ?? "unknown")
      .catch(() => "unknown")
  )

export const doctorCommand = Command.make("doctor", common, (o) =>
  Effect.gen(function* () {
    const checks: Array<Check> = []
    let exitCode: number = ExitCode.ok
    const fail = (check: Check, code: number) => {
      checks.push(check)
      if (exitCode === ExitCode.ok) exitCode = code
    }
    const { accountsPathFor, resolveProfile, PERSONA_VERSION } = yield* Effect.promise(() => import("@acct/client"))
    // Read as @acct/backend reads it for every other command (Effect Config, the environment).
    const apiKey = yield* Config.string("ACCT_API_KEY").pipe(Config.withDefault(""))
    const remote = Option.map(o.remote, (url) => ({ name: "--remote", provider: "remote" as const, url, apiKey }))
    const resolved = Option.isSome(remote) ? Either.right(remote.value) : resolveProfile(Option.getOrUndefined(o.profile))
    if (Either.isLeft(resolved)) {
      fail({ check: "profile", ok: false, detail: resolved.left.message }, ExitCode.usage)
    } else {
      const profile = resolved.right ?? { name: "default", provider: "local" as const, database: undefined }
      if (profile.provider === "local") {
        const database = profile.database ?? o.db
        checks.push({ check: "profile", ok: true, detail: `${profile.name}: local database ${database}` })
        const counted = yield* Effect.flatMap(Accounts, (a) => Effect.all([a.list({ size: 1 }), a.listTypes()])).pipe(
          Effect.provide(store(database)),
          Effect.either
        )
        if (Either.isRight(counted)) checks.push({ check: "database", ok: true, detail: `opens; ${counted.right[1].length} account type(s), ${counted.right[0].items.length > 0 ? "has" : "no"} accounts` })
        else fail({ check: "database", ok: false, detail: counted.left.message }, exitCodeFor(counted.left))
      } else {
        const base = profile.url.replace(/\/+$/, "")
        const secret = profile.provider === "softwareone" ? profile.token : profile.apiKey
        checks.push({ check: "profile", ok: true, detail: `${profile.name}: ${profile.provider} at ${base}` })
        if (secret === "") fail({ check: "credentials", ok: false, detail: "no API key (set ACCT_API_KEY)" }, ExitCode.permission)
        const [url, headers] =
          profile.provider === "persona"
            ? ([`${base}/accounts?page%5Bsize%5D=1`, { "persona-version": PERSONA_VERSION, "key-inflection": "kebab" }] as const)
            : profile.provider === "softwareone"
              ? ([`${base}${accountsPathFor(base)}?limit=1`, {}] as const)
              : ([`${base}/api/v1/accounts?page%5Bsize%5D=1`, {}] as const)
        const answer = yield* Effect.either(probe(url, { authorization: `Bearer ${secret}`, accept: "application/json", ...headers }))
        if (Either.isLeft(answer)) {
          fail({ check: "reachable", ok: false, detail: `no answer from ${base}: ${answer.left}` }, ExitCode.unavailable)
        } else {
          const { status, ms } = answer.right
          checks.push({ check: "reachable", ok: true, detail: `answered in ${ms} ms` })
          // Without a key, "no API key" (above) is all there is to say of the credentials.
          if (secret !== "") {
            if (status === 401 || status === 403) fail({ check: "credentials", ok: false, detail: `refused (${status}): check the key in the profile's environment variable` }, ExitCode.permission)
            else if (status >= 400) fail({ check: "credentials", ok: false, detail: `unexpected ${status} to a read` }, status >= 500 || status === 429 ? ExitCode.unavailable : ExitCode.failure)
            else checks.push({ check: "credentials", ok: true, detail: "accepted" })
          }
          // An acct server says its version without a key (/openapi.json); Persona confirms the
          // version only by answering an authenticated request.
          const acctVersion = profile.provider === "remote" ? yield* versionOf(base) : undefined
          checks.push({
            check: "version",
            ok: acctVersion !== undefined ? acctVersion !== "unknown" : status < 400,
            detail:
              profile.provider === "persona"
                ? `Persona-Version ${PERSONA_VERSION} ${status < 400 ? "accepted" : "not confirmed"}`
                : acctVersion !== undefined
                  ? `acct ${acctVersion}`
                  : "SoftwareOne Marketplace accounts API v1"
          })
          checks.push(headroom(answer.right.headers))
        }
      }
    }
    yield* o.json
      ? Console.log(JSON.stringify({ ok: exitCode === ExitCode.ok, checks }, null, 2))
      : Console.log(table(["CHECK", "", "DETAIL"], checks.map((c) => [c.check, c.ok ? "ok" : "FAIL", c.detail]), 100))
    if (exitCode !== ExitCode.ok) yield* Effect.sync(() => void (process.exitCode = exitCode))
  })
).pipe(
  Command.withDescription(`Check a profile: does it resolve (secrets present), does the service answer, are the credentials accepted, which version answers, how much rate-limit headroom is left.

Examples:
  acct doctor                         the default (local database, ACCT_PROVIDER, or the config's default)
  acct doctor --profile persona       a profile from acct.config.yaml
  acct doctor --remote http://127.0.0.1:8080 --json`)
)
