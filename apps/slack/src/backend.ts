/**
 * The Slack app's backend, opened in the worker thread: where accounts live.
 */
import { Accounts, type AccountsError, type InvalidRequest } from "@acct/core"
import { remoteAccounts, resolveProfile } from "@acct/client"
import { storeFor } from "@acct/store-sql"
import { NodeHttpClient } from "@effect/platform-node"
import { Either, type Layer, ManagedRuntime } from "effect"
import { fail } from "./settings.js"

const env = process.env

/**
 * Where accounts live: an acct server (ACCT_URL + ACCT_API_KEY, the usual deployment), a
 * profile (ACCT_PROFILE / ACCT_PROVIDER), or a local store (ACCT_DATABASE). Remote calls use
 * node:http rather than fetch: lighter per call.
 */
const backendLayer = (): { readonly layer: Layer.Layer<Accounts, AccountsError>; readonly describe: string } => {
  if (env.ACCT_URL) {
    if (!env.ACCT_API_KEY) fail("ACCT_URL needs ACCT_API_KEY")
    const url = env.ACCT_URL.replace(/\/+$/, "")
    return { layer: remoteAccounts({ name: "ACCT_URL", provider: "remote", url, apiKey: env.ACCT_API_KEY! }, NodeHttpClient.layer), describe: `acct server ${url}` }
  }
  const profile = Either.getOrElse(resolveProfile(env.ACCT_PROFILE), (e: InvalidRequest) => fail(e.message))
  if (profile && profile.provider !== "local") return { layer: remoteAccounts(profile, NodeHttpClient.layer), describe: `${profile.provider} profile ${profile.name}` }
  const database = (profile?.provider === "local" ? profile.database : undefined) ?? env.ACCT_DATABASE ?? ".acct/acct.db"
  return { layer: storeFor(database), describe: `local store ${database}` }
}

export const openBackend = async () => {
  const chosen = backendLayer()
  const runtime = ManagedRuntime.make(chosen.layer)
  const accounts = await runtime.runPromise(Accounts).catch((e: { message?: string }) => fail(`cannot open the backend (${chosen.describe}): ${e.message ?? String(e)}`))
  return { accounts, describe: chosen.describe, close: () => runtime.dispose() }
}
