/**
 * The Slack app on a loopback port with a real store behind it, requests built and signed the
 * way Slack builds them (slash commands: form fields; clicks: a `payload` field holding a
 * block_actions JSON), and a capture server standing in for `response_url`.
 */
import { Accounts, type AccountsService } from "@acct/core"
import { demoCatalog, loadCatalog, parseCatalog, seedDemoAccounts, storeFor } from "@acct/store-sql"
import { Effect, Either, ManagedRuntime } from "effect"
import { mkdtempSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { afterAll, beforeAll } from "vitest"
import { startSlackApp, type SlackAppOptions } from "../src/app.js"
import { defaultPolicy, parsePolicy, type Policy } from "../src/policy.js"
import { sign } from "../src/signature.js"

export const SECRET = "8f742231b10e8888abcd99yyyzzz85a5"

/** A policy from YAML text, for tests. */
export const policy = (yaml: string): Policy => {
  const parsed = parsePolicy(yaml, "policy.yaml")
  if (parsed._tag === "Left") throw parsed.left
  return parsed.right
}

/** UOPS0001 may run actions and write (tags). */
export const OPS = policy("grants:\n  - users: [UOPS0001]\n    scopes: [account.action, account.write]\n")

export const startStore = async () => {
  const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-slack-")), "acct.db")
  const runtime = ManagedRuntime.make(storeFor(database))
  await runtime.runPromise(
    Effect.gen(function* () {
      yield* loadCatalog(Either.getOrThrow(parseCatalog(JSON.stringify(demoCatalog), "demo catalog", "json")), "demo catalog")
      yield* seedDemoAccounts
    })
  )
  return { runtime, accounts: await runtime.runPromise(Accounts) }
}

/** Collects what the app posts to response URLs; `failFirst` posts per path answer 500. */
export const startCapture = async (failFirst = 0) => {
  const posts = new Map<string, Array<Record<string, unknown>>>()
  const attempts = new Map<string, number>()
  const server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const url = req.url ?? ""
      const n = (attempts.get(url) ?? 0) + 1
      attempts.set(url, n)
      if (n <= failFirst) return void res.writeHead(500).end()
      posts.set(url, [...(posts.get(url) ?? []), JSON.parse(Buffer.concat(chunks).toString("utf8"))])
      res.writeHead(200).end("ok")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  let next = 0
  return {
    /** A fresh response_url. */
    url: () => `${base}/commands/T0001/${++next}/hook`,
    posts: (url: string) => posts.get(new URL(url).pathname) ?? [],
    attempts: (url: string) => attempts.get(new URL(url).pathname) ?? 0,
    /** The first message posted to `url`, waiting for it. */
    next: async (url: string, index = 0, timeoutMs = 5_000) => {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        const got = posts.get(new URL(url).pathname)?.[index]
        if (got) return got as { text: string; blocks?: Array<unknown>; response_type?: string; replace_original?: boolean }
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      throw new Error(`nothing posted to ${url}`)
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** A seeded store and a response_url capture for a test file: made before its tests, closed after. */
export const useStoreAndCapture = () => {
  const fixture = {} as { store: Awaited<ReturnType<typeof startStore>>; capture: Awaited<ReturnType<typeof startCapture>> }
  beforeAll(async () => {
    fixture.store = await startStore()
    fixture.capture = await startCapture()
  })
  afterAll(async () => {
    await fixture.capture.close()
    await fixture.store.runtime.dispose()
  })
  return fixture
}

export interface Who {
  readonly team?: string
  readonly user?: string
  readonly name?: string
}

export const startApp = async (accounts: AccountsService, options: Partial<SlackAppOptions> = {}) => {
  const audit: Array<Record<string, unknown>> = []
  const app = await startSlackApp({ signingSecret: SECRET, port: 0, host: "127.0.0.1", policy: defaultPolicy, accounts, responseRetryBaseMs: 10, audit: (e) => audit.push(e), ...options })
  const send = async (body: string, headers: Record<string, string> = {}) => {
    const started = performance.now()
    const response = await fetch(`${app.url}/slack/events`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body })
    const text = await response.text()
    return { status: response.status, text, ms: performance.now() - started }
  }
  const signed = (body: string, timestamp = Math.floor(Date.now() / 1000), secret = SECRET) => ({
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": sign(secret, String(timestamp), body)
  })
  /** A slash command exactly as Slack posts it. */
  const commandBody = (text: string, responseUrl: string, who: Who = {}) =>
    new URLSearchParams({
      token: "gIkuvaNzQIHg97ATvDxqgjtO",
      team_id: who.team ?? "T0001",
      team_domain: "example",
      channel_id: "C2147483705",
      channel_name: "support",
      user_id: who.user ?? "U2147483697",
      user_name: who.name ?? "steve",
      command: "/acct",
      text,
      api_app_id: "A123456",
      is_enterprise_install: "false",
      response_url: responseUrl,
      trigger_id: "13345224609.738474920.8088930838d88f008e0"
    }).toString()
  const slash = (text: string, responseUrl: string, who: Who = {}) => {
    const body = commandBody(text, responseUrl, who)
    return send(body, signed(body))
  }
  // Every click its own action_ts, as Slack gives each click: two clicks in one millisecond
  // (a double click) must not be byte-identical, or the replay guard rightly refuses the second.
  let clicks = 0
  const actionTs = () => `${(Date.now() / 1000).toFixed(6)}${String(clicks++ % 1000).padStart(3, "0")}`
  /** A button click: a block_actions payload, as Slack posts it. */
  const click = (actionId: string, value: string, responseUrl: string, who: Who = {}) => {
    const payload = {
      type: "block_actions",
      user: { id: who.user ?? "U2147483697", username: who.name ?? "steve", name: who.name ?? "steve", team_id: who.team ?? "T0001" },
      api_app_id: "A123456",
      token: "gIkuvaNzQIHg97ATvDxqgjtO",
      container: { type: "message", message_ts: "1548261231.000200", channel_id: "C2147483705", is_ephemeral: true },
      trigger_id: "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
      team: { id: who.team ?? "T0001", domain: "example" },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: "C2147483705", name: "support" },
      response_url: responseUrl,
      actions: [{ action_id: actionId, block_id: "confirm", text: { type: "plain_text", text: "Confirm", emoji: true }, value, style: "danger", type: "button", action_ts: actionTs() }]
    }
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`
    return send(body, signed(body))
  }
  return { ...app, audit, send, signed, commandBody, slash, click }
}

/** The Confirm button's value in a confirmation message. */
export const confirmToken = (message: { blocks?: Array<unknown> }) => {
  const actions = message.blocks?.find((b) => (b as { type: string }).type === "actions") as { elements: Array<{ action_id: string; value: string }> } | undefined
  const token = actions?.elements.find((e) => e.action_id === "acct_confirm")?.value
  if (!token) throw new Error(`no Confirm button in ${JSON.stringify(message)}`)
  return token
}

export const text = (message: { text: string; blocks?: Array<unknown> }) => `${message.text}\n${JSON.stringify(message.blocks ?? [])}`
