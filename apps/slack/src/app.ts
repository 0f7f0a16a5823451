/**
 * The Slack app on Bolt: `/acct` and its Confirm / Cancel buttons. Over HTTP, every request is
 * verified (signature, two-sided timestamp window, replay) before Bolt sees it, on Bolt's
 * default endpoint `/slack/events`; with an app token it runs in Socket Mode instead. Every
 * command is acknowledged at once; the work happens after, and its result goes to the
 * command's `response_url`.
 */
import { type AccountsService, withPermissions } from "@acct/core"
import { App, HTTPReceiver, LogLevel, SocketModeReceiver } from "@slack/bolt"
import { Effect } from "effect"
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { errorMessage } from "./blocks.js"
import { parseCommand, type SlackCommand } from "./command.js"
import { open } from "./confirm.js"
import { execute, type Outcome } from "./execute.js"
import { type Permissions, permissionsOf, type Policy, type SlackUser, usesGroups } from "./policy.js"
import { makeReplayGuard, verifySignature } from "./signature.js"
import { makeResponder, type SlackMessage } from "./responder.js"

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
  readonly accounts: AccountsService
  /** Also post a short public note in the channel when something changed. */
  readonly announceChanges?: boolean | undefined
  /** Slack's Web API, e.g. a local stand-in for tests. */
  readonly slackApiUrl?: string | undefined
  /** Retry pacing for response_url posts. */
  readonly responseRetryBaseMs?: number | undefined
  /** One line per command (allowed or denied): ids and outcome, never tokens or personal data. */
  readonly audit?: ((entry: Record<string, unknown>) => void) | undefined
}

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

const describe = (command: SlackCommand) => ("account" in command ? `${command.kind} ${command.account}` : command.kind)

export const startSlackApp = async (options: SlackAppOptions) => {
  const commandName = options.commandName ?? "/acct"
  // Remote backends see only the app's own credentials: check each user's scopes here as well.
  const accounts = withPermissions(options.accounts)
  const audit = options.audit ?? ((entry) => process.stdout.write(`${JSON.stringify({ message: "slack command", ...entry })}\n`))
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
  const userOf = async (teamId: string, userId: string, userName: string): Promise<{ user: SlackUser; permissions: Permissions }> => {
    const user = { teamId, userId, userName, groups: await groupsOf(userId) }
    return { user, permissions: permissionsOf(options.policy, user) }
  }

  const run = (command: SlackCommand, user: SlackUser, permissions: Permissions, confirmedKey?: string) =>
    Effect.runPromise(
      execute(command, { accounts, permissions, user, commandName, signingSecret: options.signingSecret, nowSeconds: Math.floor(Date.now() / 1000), confirmedKey })
    )

  const deliver = async (responseUrl: string, outcome: Outcome, extra: Partial<SlackMessage> = {}) => {
    const responder = makeResponder(responseUrl, Date.now(), options.responseRetryBaseMs !== undefined ? { baseDelayMs: options.responseRetryBaseMs } : {})
    await Effect.runPromise(responder.post({ response_type: "ephemeral", ...outcome.message, ...extra }))
    if (outcome.changed && options.announceChanges) await Effect.runPromise(responder.post({ response_type: "in_channel", text: outcome.message.text }))
  }

  /** After an ack: let pending acks go out before this command's work takes the event loop. */
  const afterAcks = () => new Promise((resolve) => setImmediate(resolve))

  app.command(commandName, async ({ command, ack }) => {
    await ack()
    await afterAcks()
    const parsed = parseCommand(command.text ?? "")
    const { user, permissions } = await userOf(command.team_id, command.user_id, command.user_name)
    const outcome = await run(parsed, user, permissions)
    audit({ team: user.teamId, user: user.userId, command: describe(parsed), outcome: outcome.result })
    await deliver(command.response_url, outcome)
  })

  app.action("acct_confirm", async ({ ack, body, action }) => {
    await ack()
    await afterAcks()
    const payload = body as unknown as { user: { id: string; name?: string; username?: string; team_id?: string }; team?: { id: string } | null; response_url: string }
    const teamId = payload.team?.id ?? payload.user.team_id ?? ""
    const token = (action as { value?: string }).value ?? ""
    const opened = open(options.signingSecret, token, Math.floor(Date.now() / 1000))
    const fail = (text: string, result: Outcome["result"]) => {
      audit({ team: teamId, user: payload.user.id, command: "confirm", outcome: result })
      return deliver(payload.response_url, { message: errorMessage(text), result, changed: false }, { replace_original: true })
    }
    if (!opened.ok) return fail(opened.reason, "failed")
    if (opened.pending.userId !== payload.user.id || opened.pending.teamId !== teamId) return fail("only the person who asked can confirm this", "denied")
    // Permissions are checked again at the click: they may have changed since the question.
    const { user, permissions } = await userOf(teamId, payload.user.id, payload.user.username ?? payload.user.name ?? payload.user.id)
    const outcome = await run(opened.pending.command, user, permissions, `slack-confirm-${opened.pending.nonce}`)
    audit({ team: teamId, user: user.userId, command: `confirm ${describe(opened.pending.command)}`, outcome: outcome.result })
    await deliver(payload.response_url, outcome, { replace_original: true })
  })

  app.action("acct_cancel", async ({ ack, body }) => {
    await ack()
    const payload = body as unknown as { response_url: string }
    await deliver(payload.response_url, { message: { text: "Cancelled; nothing was changed." }, result: "ok", changed: false }, { replace_original: true })
  })

  if (socketMode) {
    await app.start()
    return { app, url: undefined as string | undefined, close: () => app.stop() }
  }

  // Over HTTP: our own verification first, then Bolt's request listener on the same body.
  const replay = makeReplayGuard()
  const httpReceiver = receiver as HTTPReceiver
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? "").split("?")[0]
    if (req.method === "GET" && path === "/healthz") return void res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}')
    if (req.method !== "POST" || path !== "/slack/events") return void res.writeHead(404).end()
    const body = await readBody(req)
    if (body === undefined) return void res.writeHead(413).end()
    const text = body.toString("utf8")
    // Slack's SSL check carries no signature; answer it and nothing else.
    if (new URLSearchParams(text).get("ssl_check") === "1") return void res.writeHead(200).end()
    const signature = req.headers["x-slack-signature"]
    const timestamp = req.headers["x-slack-request-timestamp"]
    const now = Math.floor(Date.now() / 1000)
    const verdict = verifySignature(options.signingSecret, { signature: typeof signature === "string" ? signature : undefined, timestamp: typeof timestamp === "string" ? timestamp : undefined }, text, now)
    const refused = !verdict.ok ? verdict.reason : !replay(signature as string, now) ? "replayed request" : undefined
    if (refused) {
      audit({ refused })
      return void res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_request", reason: refused }))
    }
    ;(req as IncomingMessage & { rawBody: Buffer }).rawBody = body
    httpReceiver.requestListener(req, res)
  })
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? "0.0.0.0", resolve))
  const { port } = server.address() as AddressInfo
  return {
    app,
    url: `http://${options.host ?? "0.0.0.0"}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

