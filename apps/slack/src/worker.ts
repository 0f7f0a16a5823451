/**
 * The worker thread that does the Slack app's work (work.ts), so that running commands never
 * delays the acknowledgements of new ones. Messages in: `{ type: "job", job }`, `{ type: "drain" }`;
 * out: `ready`, then `drained` once every job received has finished.
 */
import { parentPort, workerData } from "node:worker_threads"
import { openBackend } from "./backend.js"
import { loadPolicy } from "./settings.js"
import { auditToStdout, type Job, makeWork } from "./work.js"

const port = parentPort!
const settings = workerData as { readonly signingSecret: string; readonly commandName: string; readonly announceChanges: boolean }
const backend = await openBackend()
const work = makeWork({ ...settings, accounts: backend.accounts, ids: backend.ids, policy: loadPolicy(), audit: auditToStdout })

let pending = 0
let draining = false
const settle = () => {
  if (draining && pending === 0) void backend.close().then(() => port.postMessage({ type: "drained" }))
}
port.on("message", (message: { type: "job"; job: Job } | { type: "drain" }) => {
  if (message.type === "drain") {
    draining = true
    return settle()
  }
  pending++
  void work(message.job).finally(() => {
    pending--
    settle()
  })
})
port.postMessage({ type: "ready", backend: backend.describe })
