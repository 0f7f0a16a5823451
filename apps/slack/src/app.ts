/**
 * The Slack app on Bolt: `/acct` and its Confirm / Cancel buttons. Over HTTP, every request is
 * verified (signature, two-sided timestamp window, replay) before Bolt sees it, on Bolt's
 * default endpoint `/slack/events`; with an app token it runs in Socket Mode instead. Every
 * command is acknowledged at once; the work happens after (work.ts), and its result goes to the
 * command's `response_url`.
 */
import type { AccountsService, IdOwner } from "@acct/core"
import { App, HTTPReceiver, LogLevel, SocketModeReceiver } from "@slack/bolt"
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Either } from "effect"
import { parseCommand } from "./command.js"
import { open } from "./confirm.js"
import { classifyBody, decodeBlockAction, decodeSlashCommand, teamOf } from "./payload.js"
import { type Policy, type SlackUser, usesGroups } from "./policy.js"
import { makeReplayGuard } from "./replay-guard.js"
import { verifySignature, WINDOW_SECONDS } from "./signature.js"
import { auditToStdout, type Job, makeWork } from "./work.js"

export interface SlackAppOptions {
  readonly signingSecret: string
  /** For looking up user-group members (policy `groups`); not needed otherwise. */
  readonly botToken?: string | undefined
  /** Socket Mode (no public URL needed) when set. */
  readonly appToken?: string | undefined
  readonly port: number
  readonly host?: string | undefined
  readonly commandName?: string | undefined
  readonly policy: Policy
  /**
   * Where acknowledged work goes: a worker thread's queue (see worker.ts), or, given
   * `accounts` instead, this thread.
   */
  readonly dispatch?: ((job: Job) => void) | undefined
  readonly accounts?: AccountsService | undefined
  /** Whose ids `accounts` carry (@acct/backend `idOwnerOf`); acct's own unless told. */
  readonly ids?: IdOwner | undefined
  /** Also post a short public note in the channel when something changed. */
  readonly announceChanges?: boolean | undefined
  /** Slack's Web API, e.g. a local stand-in for tests. */
  readonly slackApiUrl?: string | undefined
  /** Retry pacing for response_url posts. */
  readonly responseRetryBaseMs?: number | undefined
  /** One line per command (allowed or denied): ids and outcome, never tokens or personal data. */
  readonly audit?: ((entry: Record<string, unknown>) => void) | undefined
  /** Where seen request signatures are kept, so that a replay is refused across restarts too (see replay-guard.ts). */
  readonly replayFile?: string | undefined
}

/** Loopback unless told otherwise: Slack reaches the app through a proxy or tunnel that terminates TLS. */
export const DEFAULT_HOST = "127.0.0.1"

const MAX_BODY = 64 * 1024

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer | undefined>((resolve) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY) chunks.push(chunk)
    })
    req.on("end", () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks)))
    req.on("error", () => resolve(undefined))
  })

/** Work in this thread, after the pending acknowledgements have gone out. */
const inline = (options: SlackAppOptions, commandName: string, audit: (entry: Record<string, unknown>) => void) => {
  if (!options.accounts) throw new Error("startSlackApp needs `accounts` or `dispatch`")
  const work = makeWork({ ...options, accounts: options.accounts, ids: options.ids ?? "acct", commandName, audit })
  return (job: Job) => void setImmediate(() => void work(job))
}

export const startSlackApp = async (options: SlackAppOptions) => {
  const commandName = options.commandName ?? "/acct"
  const audit = options.audit ?? auditToStdout
  const dispatch = options.dispatch ?? inline(options, commandName, audit)
  const socketMode = options.appToken !== undefined && options.appToken !== ""
  const receiver = socketMode
    ? new SocketModeReceiver({ appToken: options.appToken!, ...(options.slackApiUrl ? { installerOptions: { clientOptions: { slackApiUrl: options.slackApiUrl } } } : {}) })
    : new HTTPReceiver({
        signingSecret: options.signingSecret,
        endpoints: "/slack/events",
        processBeforeResponse: false,
        // Verified already, more strictly, before Bolt sees the request (see below).
        signatureVerification: false,
        unhandledRequestTimeoutMillis: 2_500
      })
  const app = new App({
    receiver,
    authorize: async () => ({ ...(options.botToken ? { botToken: options.botToken } : {}) }),
    logLevel: LogLevel.ERROR,
    ...(options.slackApiUrl ? { clientOptions: { slackApiUrl: options.slackApiUrl } } : {})
  })

  // Bolt reads some fields of a click itself before any listener runs, and throws on a malformed
  // one, leaving it unacknowledged: anything that is neither a command nor a well-formed click
  // is acknowledged and dropped here, over HTTP (after the checks below) and in Socket Mode.
  const boltProcessEvent = app.processEvent.bind(app)
  app.processEvent = async (event) => {
    const body = event.body as { readonly command?: unknown }
    if (typeof body?.command === "string" || Either.isRight(decodeBlockAction(body))) return boltProcessEvent(event)
    audit({ refused: "malformed interaction" })
    await event.ack()
  }

  // User-group members, looked up through Slack's API for a few minutes at a time.
  let groupCache: { readonly at: number; readonly members: ReadonlyMap<string, ReadonlySet<string>> } | undefined
  const groupsOf = async (userId: string): Promise<ReadonlyArray<string>> => {
    if (!usesGroups(options.policy) || !options.botToken) return []
    if (!groupCache || Date.now() - groupCache.at > 5 * 60_000) {
      const members = new Map<string, ReadonlySet<string>>()
      for (const group of new Set(options.policy.grants.flatMap((g) => g.groups))) {
        const answer = await app.client.usergroups.users.list({ token: options.botToken, usergroup: group }).catch(() => undefined)
        members.set(group, new Set(answer?.users ?? []))
      }
      groupCache = { at: Date.now(), members }
    }
    return [...groupCache.members].filter(([, users]) => users.has(userId)).map(([group]) => group)
  }
  const userOf = async (teamId: string, userId: string): Promise<SlackUser> => ({ teamId, userId, groups: await groupsOf(userId) })

  // Every command reaches this one listener, so that none goes unanswered: a command with
  // fields missing, or another app's command routed here, gets an ephemeral answer at once.
  app.command(/.*/, async ({ command, ack }) => {
    const decoded = decodeSlashCommand(command)
    if (Either.isLeft(decoded)) {
      audit({ refused: "malformed slash command" })
      return ack({ response_type: "ephemeral", text: `acct cannot read this command (${decoded.left}).` })
    }
    if (decoded.right.command !== commandName) return ack({ response_type: "ephemeral", text: `acct answers ${commandName} only, not ${decoded.right.command.slice(0, 40)}.` })
    await ack()
    const { team_id, user_id, text, response_url } = decoded.right
    dispatch({ kind: "run", command: parseCommand(text), user: await userOf(team_id, user_id), responseUrl: response_url })
  })

  // Likewise every click: Confirm and Cancel are ours, anything else is acknowledged and ignored.
  app.action(/.*/, async ({ ack, body }) => {
    await ack()
    const decoded = decodeBlockAction(body)
    if (Either.isLeft(decoded)) return audit({ refused: "malformed interaction" })
    const click = decoded.right
    const [action] = click.actions
    const teamId = teamOf(click)
    const userId = click.user.id
    if (action.action_id === "acct_cancel") return dispatch({ kind: "cancel", responseUrl: click.response_url })
    if (action.action_id !== "acct_confirm") return
    const opened = open(options.signingSecret, action.value ?? "", Math.floor(Date.now() / 1000))
    const refuse = (text: string, result: "failed" | "denied") => dispatch({ kind: "refuse", text, result, user: { teamId, userId }, responseUrl: click.response_url })
    if (!opened.ok) return refuse(opened.reason, "failed")
    if (opened.pending.userId !== userId || opened.pending.teamId !== teamId) return refuse("only the person who asked can confirm this", "denied")
    dispatch({ kind: "run", command: opened.pending.command, user: await userOf(teamId, userId), responseUrl: click.response_url, confirmedKey: `slack-confirm-${opened.pending.nonce}` })
  })

  if (socketMode) {
    await app.start()
    return { app, url: undefined as string | undefined, close: () => app.stop() }
  }

  // Over HTTP: our own verification first, then Bolt's request listener on the same body.
  const replay = (() => {
    try {
      return makeReplayGuard({ file: options.replayFile })
    } catch (e) {
      throw new Error(`cannot keep seen request signatures in ${options.replayFile} (ACCT_SLACK_REPLAY_FILE): ${(e as Error).message}`)
    }
  })()
  const httpReceiver = receiver as HTTPReceiver
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? "").split("?")[0]
    if (req.method === "GET" && path === "/healthz") return void res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}')
    if (req.method !== "POST" || path !== "/slack/events") return void res.writeHead(404).end()
    const body = await readBody(req)
    if (body === undefined) return void res.writeHead(413).end()
    const text = body.toString("utf8")
    const kind = classifyBody(req.headers["content-type"], text)
    // Slack's SSL check carries no signature; answer it and nothing else.
    if (kind.kind === "ssl_check") return void res.writeHead(200).end()
    const signature = req.headers["x-slack-signature"]
    const timestamp = req.headers["x-slack-request-timestamp"]
    const now = Math.floor(Date.now() / 1000)
    const verdict = verifySignature(options.signingSecret, { signature: typeof signature === "string" ? signature : undefined, timestamp: typeof timestamp === "string" ? timestamp : undefined }, text, now)
    const refused = !verdict.ok ? verdict.reason : !replay.admit(signature as string, Number(timestamp) + WINDOW_SECONDS, now) ? "replayed request" : undefined
    if (refused) {
      audit({ refused })
      return void res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_request", reason: refused }))
    }
    // Signed, but nothing Slack sends this app: say why instead of letting Bolt time out on it.
    if (kind.kind === "invalid") {
      audit({ refused: "not a Slack request" })
      return void res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_request", reason: kind.reason }))
    }
    ;(req as IncomingMessage & { rawBody: Buffer }).rawBody = body
    httpReceiver.requestListener(req, res)
  })
  const host = options.host ?? DEFAULT_HOST
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) => {
      replay.close()
      reject(error)
    }
    server.once("error", failed)
    server.listen(options.port, host, () => {
      server.off("error", failed)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    app,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).finally(replay.close)
  }
}

