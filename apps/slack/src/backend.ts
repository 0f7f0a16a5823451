/**
 * The Slack app's backend, opened in the worker thread: where accounts live, as @acct/backend
 * decides for every app — an acct server (ACCT_URL + ACCT_API_KEY, the usual deployment), a
 * profile (ACCT_PROFILE / ACCT_PROVIDER / the config file), or a local store (ACCT_DATABASE).
 * Remote calls use node:http rather than fetch: lighter per call.
 */
import { backendAccounts, idOwnerOf, resolveBackend } from "@acct/backend"
import { Accounts } from "@acct/core"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, ManagedRuntime } from "effect"
import { fail } from "./settings.js"

/**
 * Only `acct init` creates a database: a mistyped ACCT_DATABASE (or the wrong working folder) is
 * a failed start that says how to make one, not an empty database answering "not found".
 */
const mustExist = (database: string) => ({ howToCreate: `create one with \`acct init --db ${database}\` (add --demo for demo data), or point ACCT_DATABASE at an existing one` })

export const openBackend = async () => {
  const chosen = await Effect.runPromise(Effect.either(resolveBackend({ frontEnd: true, mustExist })))
  if (chosen._tag === "Left") return fail(chosen.left._tag === "InvalidRequest" ? chosen.left.message : `invalid setting: ${String(chosen.left)}`)
  const backend = chosen.right
  const runtime = ManagedRuntime.make(backendAccounts(backend, NodeHttpClient.layer))
  const accounts = await runtime.runPromise(Accounts).catch((e: { message?: string }) => fail(`cannot open the backend (${backend.describe}): ${e.message ?? String(e)}`))
  return { accounts, ids: idOwnerOf(backend), describe: backend.describe, close: () => runtime.dispose() }
}
