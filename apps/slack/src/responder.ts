/**
 * Answers through a command's `response_url`, which Slack honours up to 5 times within 30
 * minutes. Transient failures (network, 429, 5xx) are retried with backoff, within those limits.
 */
import { Effect } from "effect"
import { Agent as HttpAgent, request as httpRequest } from "node:http"
import { Agent as HttpsAgent, request as httpsRequest } from "node:https"

export const RESPONSE_URL_USES = 5
export const RESPONSE_URL_LIFETIME_MS = 30 * 60 * 1000

export interface SlackMessage {
  readonly text: string
  readonly blocks?: ReadonlyArray<unknown>
  readonly response_type?: "ephemeral" | "in_channel"
  readonly replace_original?: boolean
  readonly delete_original?: boolean
}

// node:http with keep-alive rather than fetch: this runs once per command, beside the acks.
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) }

/** One POST; the status, or 0 when there was no answer. */
const postJson = (url: string, body: string) =>
  new Promise<number>((resolve) => {
    const target = new URL(url)
    const secure = target.protocol === "https:"
    const req = (secure ? httpsRequest : httpRequest)(
      target,
      { method: "POST", agent: secure ? agents.https : agents.http, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: 5_000 },
      (res) => {
        res.resume()
        res.on("end", () => resolve(res.statusCode ?? 0))
        res.on("error", () => resolve(0))
      }
    )
    req.on("timeout", () => req.destroy())
    req.on("error", () => resolve(0))
    req.end(body)
  })

export const makeResponder = (responseUrl: string, receivedAt = Date.now(), options: { readonly baseDelayMs?: number } = {}) => {
  let uses = 0
  const baseDelayMs = options.baseDelayMs ?? 500
  const post = (message: SlackMessage) =>
    Effect.promise(async () => {
      for (let attempt = 1; uses < RESPONSE_URL_USES && Date.now() - receivedAt < RESPONSE_URL_LIFETIME_MS; attempt++) {
        uses++
        const status = await postJson(responseUrl, JSON.stringify(message))
        if (status >= 200 && status < 300) return true
        if (status !== 0 && status !== 429 && status < 500) return false
        await new Promise((resolve) => setTimeout(resolve, baseDelayMs * 2 ** (attempt - 1)))
      }
      return false
    })
  return { post, uses: () => uses }
}
export type Responder = ReturnType<typeof makeResponder>
