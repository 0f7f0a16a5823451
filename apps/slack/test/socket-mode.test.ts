/**
 * Socket Mode against a stand-in for Slack's side of it: `apps.connections.open` hands out a
 * WebSocket URL; the socket says hello, then delivers envelopes (a slash command, a click) that
 * the app must acknowledge by envelope id.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { describe, expect, it } from "vitest"
import { WebSocketServer, type WebSocket } from "ws"
import { startSlackApp } from "../src/app.js"
import { parsePolicy } from "../src/policy.js"
import { confirmToken, SECRET, text, useStoreAndCapture } from "./harness.js"

const fixture = useStoreAndCapture()

const startSlack = async () => {
  const http = createServer((req, res) => {
    req.resume()
    if (req.url?.startsWith("/api/apps.connections.open")) {
      const { port } = http.address() as AddressInfo
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, url: `ws://127.0.0.1:${port}/link` }))
    }
    res.writeHead(404, { "content-type": "application/json" }).end('{"ok":false,"error":"unknown_method"}')
  })
  const wss = new WebSocketServer({ server: http })
  const acks = new Map<string, number>()
  const ackPayloads = new Map<string, unknown>()
  let socket: WebSocket | undefined
  const connected = new Promise<void>((resolve) =>
    wss.on("connection", (ws) => {
      socket = ws
      ws.on("message", (data) => {
        const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown }
        if (message.envelope_id) {
          acks.set(message.envelope_id, performance.now())
          ackPayloads.set(message.envelope_id, message.payload)
        }
      })
      ws.send(JSON.stringify({ type: "hello", num_connections: 1, debug_info: { host: "applink-test", approximate_connection_time: 18060 }, connection_info: { app_id: "A123456" } }))
      resolve()
    })
  )
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  const deliver = (envelopeId: string, type: "slash_commands" | "interactive", payload: unknown) => {
    const sent = performance.now()
    socket!.send(JSON.stringify({ envelope_id: envelopeId, payload, type, accepts_response_payload: type === "slash_commands" }))
    return sent
  }
  return {
    apiUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/`,
    connected,
    deliver,
    ackedAt: async (envelopeId: string) => {
      for (let i = 0; i < 100 && !acks.has(envelopeId); i++) await new Promise((resolve) => setTimeout(resolve, 20))
      return acks.get(envelopeId)
    },
    ackPayload: (envelopeId: string) => ackPayloads.get(envelopeId),
    close: () => {
      for (const client of wss.clients) client.terminate()
      wss.close()
      http.close()
    }
  }
}

describe("Socket Mode", () => {
  it("acknowledges envelopes by id and answers through response_url, confirmations included", async () => {
    const slack = await startSlack()
    const policy = parsePolicy("grants:\n  - users: [UOPS0001]\n    scopes: [account.action]\n", "p.yaml")
    if (policy._tag === "Left") throw policy.left
    const app = await startSlackApp({ signingSecret: SECRET, appToken: "xapp-1-A123456-test", slackApiUrl: slack.apiUrl, port: 0, policy: policy.right, accounts: fixture.store.accounts, audit: () => undefined })
    try {
      await slack.connected
      const url = fixture.capture.url()
      const command = { token: "x", team_id: "T0001", team_domain: "example", channel_id: "C0001", channel_name: "support", user_id: "UOPS0001", user_name: "olivia", command: "/acct", text: "disable def-456", api_app_id: "A123456", response_url: url, trigger_id: "1.2.3" }
      const sent = slack.deliver("env-1", "slash_commands", command)
      const acked = await slack.ackedAt("env-1")
      expect(acked).toBeDefined()
      expect(acked! - sent).toBeLessThan(1_000)
      const question = await fixture.capture.next(url)
      expect(text(question)).toContain("are you sure?")

      slack.deliver("env-2", "interactive", {
        type: "block_actions",
        user: { id: "UOPS0001", username: "olivia", name: "olivia", team_id: "T0001" },
        team: { id: "T0001", domain: "example" },
        api_app_id: "A123456",
        token: "x",
        trigger_id: "4.5.6",
        container: { type: "message", message_ts: "1.2", channel_id: "C0001", is_ephemeral: true },
        channel: { id: "C0001", name: "support" },
        response_url: url,
        actions: [{ action_id: "acct_confirm", block_id: "confirm", type: "button", value: confirmToken(question), action_ts: "1.3" }]
      })
      expect(await slack.ackedAt("env-2")).toBeDefined()
      expect(text(await fixture.capture.next(url, 1))).toContain(":white_check_mark:")
      expect((await fixture.store.runtime.runPromise(fixture.store.accounts.get({ referenceId: "def-456" }))).status).toBe("disabled")
    } finally {
      await app.close()
      slack.close()
    }
  })

  it("answers commands without user_name, and incomplete or malformed envelopes, and keeps going", async () => {
    const slack = await startSlack()
    const app = await startSlackApp({ signingSecret: SECRET, appToken: "xapp-1-A123456-test", slackApiUrl: slack.apiUrl, port: 0, policy: { grants: [] }, accounts: fixture.store.accounts, audit: () => undefined })
    try {
      await slack.connected
      slack.deliver("env-a", "slash_commands", { command: "/acct", team_id: "T0001", user_id: "U0000001", text: "show abc-123" })
      expect(await slack.ackedAt("env-a")).toBeDefined()
      expect(slack.ackPayload("env-a")).toMatchObject({ response_type: "ephemeral", text: expect.stringContaining("response_url") })
      slack.deliver("env-b", "interactive", { type: "block_actions", actions: "nope" })
      expect(await slack.ackedAt("env-b")).toBeDefined()

      const url = fixture.capture.url()
      slack.deliver("env-c", "slash_commands", { command: "/acct", team_id: "T0001", user_id: "U0000001", response_url: url, text: "show abc-123" })
      expect(await slack.ackedAt("env-c")).toBeDefined()
      expect(text(await fixture.capture.next(url))).toContain("abc-123")
    } finally {
      await app.close()
      slack.close()
    }
  })
})
