/**
 * `npm run -s slack`: the Slack app with its configuration from the environment.
 *
 *   PORT (3000), HOST, SLACK_SIGNING_SECRET (required), SLACK_BOT_TOKEN (for user groups),
 *   SLACK_APP_TOKEN (Socket Mode), ACCT_SLACK_POLICY (policy file), ACCT_SLACK_COMMAND (/acct),
 *   ACCT_SLACK_ANNOUNCE (true: a public note in the channel for changes), and the backend:
 *   ACCT_URL + ACCT_API_KEY (an acct server: the usual deployment, no database here),
 *   ACCT_PROFILE / ACCT_PROVIDER (a profile), or ACCT_DATABASE (a local store).
 */
import { Accounts, type AccountsError, InvalidRequest } from "@acct/core"
import { remoteAccounts, resolveProfile } from "@acct/client"
import { NodeHttpClient } from "@effect/platform-node"
import { storeFor } from "@acct/store-sql"
import { Either, type Layer, ManagedRuntime } from "effect"
import { readFileSync } from "node:fs"
import { startSlackApp } from "./app.js"
import { defaultPolicy, parsePolicy } from "./policy.js"

const env = process.env
const fail = (message: string): never => {
  process.stderr.write(`acct-slack: ${message}\n`)
  process.exit(2)
}

const signingSecret = env.SLACK_SIGNING_SECRET ?? fail("SLACK_SIGNING_SECRET is required (Slack app settings → Basic Information → Signing Secret)")
const port = Number(env.PORT ?? 3000)
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be a port number, got ${JSON.stringify(env.PORT)}`)

const readPolicy = (file: string) => {
  let text = ""
  try {
    text = readFileSync(file, "utf8")
  } catch (e) {
    fail(`cannot read ACCT_SLACK_POLICY ${file}: ${(e as Error).message}`)
  }
  return Either.getOrElse(parsePolicy(text, file), (e) => fail(e.message))
}
const policy = env.ACCT_SLACK_POLICY ? readPolicy(env.ACCT_SLACK_POLICY) : defaultPolicy

const backend = (): { layer: Layer.Layer<Accounts, AccountsError>; describe: string } => {
  if (env.ACCT_URL) {
    if (!env.ACCT_API_KEY) fail("ACCT_URL needs ACCT_API_KEY")
    const url = env.ACCT_URL.replace(/\/+$/, "")
    return { layer: remoteAccounts({ name: "ACCT_URL", provider: "remote", url, apiKey: env.ACCT_API_KEY! }, NodeHttpClient.layer), describe: `acct server ${url}` }
  }
  const profile = Either.getOrElse(resolveProfile(env.ACCT_PROFILE), (e: InvalidRequest) => fail(e.message))
  // node:http rather than fetch: lighter per call, and this process must stay quick to acknowledge.
  if (profile && profile.provider !== "local") return { layer: remoteAccounts(profile, NodeHttpClient.layer), describe: `${profile.provider} profile ${profile.name}` }
  const database = (profile?.provider === "local" ? profile.database : undefined) ?? env.ACCT_DATABASE ?? ".acct/acct.db"
  return { layer: storeFor(database), describe: `local store ${database}` }
}

const chosen = backend()
const runtime = ManagedRuntime.make(chosen.layer)
const accounts = await runtime.runPromise(Accounts).catch((e: { message?: string }) => fail(`cannot open the backend (${chosen.describe}): ${e.message ?? String(e)}`))
const app = await startSlackApp({
  signingSecret,
  botToken: env.SLACK_BOT_TOKEN,
  appToken: env.SLACK_APP_TOKEN,
  port,
  host: env.HOST,
  commandName: env.ACCT_SLACK_COMMAND,
  announceChanges: env.ACCT_SLACK_ANNOUNCE === "true",
  policy,
  accounts
})
process.stdout.write(
  `${JSON.stringify({ message: app.url ? `Listening on ${app.url}/slack/events` : "connected in Socket Mode", backend: chosen.describe, grants: policy.grants.length })}\n`
)

const stop = async () => {
  await app.close()
  await runtime.dispose()
  process.exit(0)
}
process.once("SIGTERM", () => void stop())
process.once("SIGINT", () => void stop())
