/**
 * Answers through a command's `response_url`, which Slack honours up to 5 times within 30
 * minutes. Transient failures (network, 429, 5xx) are retried with backoff, within those limits.
 */
import { Effect } from "effect"

export const RESPONSE_URL_USES = 5
export const RESPONSE_URL_LIFETIME_MS = 30 * 60 * 1000

export interface SlackMessage {
  readonly text: string
  readonly blocks?: ReadonlyArray<unknown>
  readonly response_type?: "ephemeral" | "in_channel"
  readonly replace_original?: boolean
  readonly delete_original?: boolean
}

export const makeResponder = (responseUrl: string, receivedAt = Date.now(), options: { readonly baseDelayMs?: number } = {}) => {
  let uses = 0
  const baseDelayMs = options.baseDelayMs ?? 500
  const post = (message: SlackMessage) =>
    Effect.promise(async () => {
      for (let attempt = 1; uses < RESPONSE_URL_USES && Date.now() - receivedAt < RESPONSE_URL_LIFETIME_MS; attempt++) {
        uses++
        const status = await fetch(responseUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(message), signal: AbortSignal.timeout(5_000) })
          .then(async (r) => {
            await r.arrayBuffer()
            return r.status
          })
          .catch(() => 0)
        if (status >= 200 && status < 300) return true
        if (status !== 0 && status !== 429 && status < 500) return false
        await new Promise((resolve) => setTimeout(resolve, baseDelayMs * 2 ** (attempt - 1)))
      }
      return false
    })
  return { post, uses: () => uses }
}
export type Responder = ReturnType<typeof makeResponder>
