/**
 * `npm run -s slack`: the Slack app with its configuration from the environment.
 *
 *   PORT (3000), HOST (127.0.0.1), SLACK_SIGNING_SECRET (required), SLACK_BOT_TOKEN (for user groups),
 *   SLACK_APP_TOKEN (Socket Mode), ACCT_SLACK_POLICY (policy file), ACCT_SLACK_COMMAND (/acct),
 *   ACCT_SLACK_ANNOUNCE (true: a public note in the channel for changes), ACCT_SLACK_REPLAY_FILE
 *   (where seen request signatures are kept across restarts; see replayFile below), and the backend:
 *   ACCT_URL + ACCT_API_KEY (an acct server: the usual deployment, no database here),
 *   ACCT_PROFILE / ACCT_PROVIDER (a profile), or ACCT_DATABASE (a local store).
 *
 * This thread receives, verifies and acknowledges; a worker thread does the work.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { Worker } from "node:worker_threads"
import { DEFAULT_HOST, startSlackApp } from "./app.js"
import { fail, loadPolicy } from "./settings.js"
import type { Job } from "./work.js"

const env = process.env

/** Node's listen errors, as an operator would say them. */
const listenProblem = (error: NodeJS.ErrnoException) =>
  error.code === "EADDRINUSE"
    ? "the port is already in use (another process listens on it)"
    : error.code === "EACCES"
      ? "permission denied (ports below 1024 need privileges)"
      : error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND"
        ? "no such address on this machine (check HOST)"
        : error.message
const signingSecret = env.SLACK_SIGNING_SECRET ?? fail("SLACK_SIGNING_SECRET is required (Slack app settings → Basic Information → Signing Secret)")
const port = Number(env.PORT ?? 3000)
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be a port number, got ${JSON.stringify(env.PORT)}`)
const policy = loadPolicy()
const commandName = env.ACCT_SLACK_COMMAND ?? "/acct"

const worker = new Worker(new URL("./slack-worker.mjs", import.meta.url), { workerData: { signingSecret, commandName, announceChanges: env.ACCT_SLACK_ANNOUNCE === "true" } })
// A configuration problem: the worker has said what it is, and stopped.
const startupFailed = () => process.exit(1)
const workerFailed = (error: Error) => fail(`the worker failed to start: ${error.message}`)
worker.once("exit", startupFailed)
worker.once("error", workerFailed)
const backend = await new Promise<string>((resolve) => worker.once("message", (message: { type: string; backend: string }) => resolve(message.backend)))
worker.off("exit", startupFailed)
worker.off("error", workerFailed)
let stopping = false
worker.on("error", (error) => process.stderr.write(`${JSON.stringify({ message: "worker failed", error: error.message })}\n`))
// Without its worker the app would acknowledge commands and never answer them: better to stop
// and be restarted (the replay guard's record survives that).
worker.on("exit", (code) => {
  if (stopping) return
  process.stderr.write(`acct-slack: the worker stopped unexpectedly (exit ${code}); stopping\n`)
  process.exit(1)
})

const host = env.HOST || DEFAULT_HOST
/**
 * Seen request signatures: beside a local SQLite database, else in a folder of the system's
 * temporary directory named after the signing secret's hash (one per app), unless
 * ACCT_SLACK_REPLAY_FILE says where.
 */
const replayFile = (() => {
  if (env.ACCT_SLACK_REPLAY_FILE) return env.ACCT_SLACK_REPLAY_FILE
  if (env.ACCT_DATABASE && !/^postgres(ql)?:/i.test(env.ACCT_DATABASE)) return path.join(path.dirname(env.ACCT_DATABASE), "slack-seen-signatures")
  const dir = path.join(tmpdir(), `acct-slack-${createHash("sha256").update(signingSecret).digest("hex").slice(0, 16)}`)
  try {
    if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 })
  } catch (e) {
    fail(`cannot make ${dir} for seen request signatures (set ACCT_SLACK_REPLAY_FILE): ${(e as Error).message}`)
  }
  return path.join(dir, "seen-signatures")
})()
const app = await startSlackApp({
  signingSecret,
  botToken: env.SLACK_BOT_TOKEN,
  appToken: env.SLACK_APP_TOKEN,
  port,
  host,
  commandName,
  policy,
  replayFile,
  dispatch: (job: Job) => worker.postMessage({ type: "job", job })
}).catch((error: NodeJS.ErrnoException) =>
  fail(error.syscall === "listen" ? `cannot listen on ${host}:${port}: ${listenProblem(error)}` : `cannot start: ${error.message}`)
)
process.stdout.write(`${JSON.stringify({ message: app.url ? `Listening on ${app.url}/slack/events` : "connected in Socket Mode", backend, grants: policy.grants.length })}\n`)

/** Stop receiving, let the worker finish what was acknowledged (at most 10 s), then exit. */
const stop = async () => {
  stopping = true
  await app.close()
  const drained = new Promise<void>((resolve) => worker.on("message", (message: { type: string }) => message.type === "drained" && resolve()))
  worker.postMessage({ type: "drain" })
  await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 10_000))])
  await worker.terminate()
  process.exit(0)
}
process.once("SIGTERM", () => void stop())
process.once("SIGINT", () => void stop())
