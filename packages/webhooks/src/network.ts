/**
 * The SSRF guard on the network, and the one POST a delivery attempt makes.
 *
 * The rules (core's webhook-address.ts) are applied when an endpoint is saved (every address its
 * host resolves to then) and again at each connection: the request's `lookup` resolves the host
 * and refuses a non-public address before the socket connects, so the address checked is the
 * address connected to — a DNS answer that changes between the check and the connection (DNS
 * rebinding) gains nothing. Redirects are never followed (a 3xx is a failed attempt).
 */
import { checkWebhookUrl, InvalidRequest, parseAllowedHosts, refuseAddress, WebhookUrlGuard } from "@acct/core"
import { Config, Effect, Either, Layer, Option } from "effect"
import { lookup as dnsLookup, type LookupAddress } from "node:dns"
import { Agent as HttpAgent, request as httpRequest } from "node:http"
import { Agent as HttpsAgent, request as httpsRequest } from "node:https"
import { isIP, type LookupFunction } from "node:net"

/** ACCT_WEBHOOK_ALLOWED_HOSTS: hosts that may use http and private addresses (e.g. 127.0.0.1 for tests). */
export const allowedHostsConfig = Effect.map(Config.option(Config.string("ACCT_WEBHOOK_ALLOWED_HOSTS")), (v) => parseAllowedHosts(Option.getOrUndefined(v)))

const refusedError = (message: string) => Object.assign(new Error(message), { code: "EWEBHOOKREFUSED" })

/** A `lookup` for http.request that refuses what the guard refuses, before connecting. */
export const guardedLookup = (allowed: ReadonlySet<string>): LookupFunction =>
  ((hostname: string, options: { all?: boolean }, callback: (error: Error | null, address: string | ReadonlyArray<LookupAddress>, family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, [])
      for (const { address } of addresses) {
        const refusal = refuseAddress(hostname, address, allowed)
        if (refusal) return callback(refusedError(refusal), [])
      }
      if (options.all) return callback(null, addresses)
      callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }) as unknown as LookupFunction

/**
 * A refusal of the URL (its sentences all start `url: `), with the issue at `url` so that an
 * edge can name it as its request does (`data.attributes.url: …`).
 */
const urlRefusal = (sentence: string) => InvalidRequest.fromIssues([{ path: ["url"], message: sentence.replace(/^url: /, "") }])

/** The save-time check: the URL's form, then every address its host resolves to now. */
export const checkUrlNow = (url: string, allowed: ReadonlySet<string>): Effect.Effect<URL, InvalidRequest> =>
  Effect.gen(function* () {
    const parsed = yield* Either.match(checkWebhookUrl(url, allowed), { onLeft: (m) => Effect.fail(urlRefusal(m)), onRight: Effect.succeed })
    const host = parsed.hostname.replace(/^\[|\]$/g, "")
    if (isIP(host)) return parsed
    const addresses = yield* Effect.async<ReadonlyArray<LookupAddress>, InvalidRequest>((resume) => {
      dnsLookup(host, { all: true }, (error, found) =>
        resume(error ? Effect.fail(urlRefusal(`url: cannot resolve ${host} (${error.code ?? error.message}); webhooks need a host that resolves`)) : Effect.succeed(found))
      )
    })
    for (const { address } of addresses) {
      const refusal = refuseAddress(host, address, allowed)
      if (refusal) return yield* urlRefusal(refusal)
    }
    return parsed
  })

export const WebhookUrlGuardLive = Layer.effect(
  WebhookUrlGuard,
  Effect.map(Effect.orDie(allowedHostsConfig), (allowed) => ({ check: (url: string) => checkUrlNow(url, allowed) }))
)

/** What one attempt came to: an HTTP answer, or why there was none. */
export type AttemptOutcome =
  | { readonly _tag: "Answered"; readonly status: number; readonly retryAfter: string | undefined; readonly body: string; readonly durationMs: number }
  | { readonly _tag: "NoAnswer"; readonly reason: "refused" | "timeout" | "network"; readonly message: string; readonly durationMs: number }

/** The first KB of an answer is kept in the attempt log. */
export const RESPONSE_LOG_BYTES = 1024

const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 16 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 16 }) }

/** POSTs `body` to `url` once: no redirects followed, `timeoutMs` for the whole exchange. */
export const post = (url: string, body: string, headers: Record<string, string>, options: { readonly allowed: ReadonlySet<string>; readonly timeoutMs: number }): Effect.Effect<AttemptOutcome> =>
  Effect.async<AttemptOutcome>((resume) => {
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    const checked = checkWebhookUrl(url, options.allowed)
    if (Either.isLeft(checked)) {
      resume(Effect.succeed({ _tag: "NoAnswer", reason: "refused", message: checked.left, durationMs: 0 }))
      return
    }
    const target = checked.right
    let settled = false
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resume(Effect.succeed(outcome))
    }
    const send = target.protocol === "https:" ? httpsRequest : httpRequest
    const request = send(
      target,
      {
        method: "POST",
        agent: target.protocol === "https:" ? agents.https : agents.http,
        lookup: guardedLookup(options.allowed),
        headers: { ...headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), "user-agent": "acct-webhooks" }
      },
      (response) => {
        const kept: Array<Buffer> = []
        let size = 0
        response.on("data", (chunk: Buffer) => {
          if (size < RESPONSE_LOG_BYTES) kept.push(chunk)
          size += chunk.length
          // A receiver streaming a large answer is not read to the end.
          if (size > 64 * 1024) response.destroy()
        })
        const done = () =>
          finish({
            _tag: "Answered",
            status: response.statusCode ?? 0,
            retryAfter: response.headers["retry-after"],
            body: Buffer.concat(kept).subarray(0, RESPONSE_LOG_BYTES).toString("utf8"),
            durationMs: elapsed()
          })
        response.on("end", done)
        response.on("close", done)
        response.on("error", done)
      }
    )
    const timer = setTimeout(() => {
      finish({ _tag: "NoAnswer", reason: "timeout", message: `no answer within ${options.timeoutMs / 1000} s`, durationMs: elapsed() })
      request.destroy()
    }, options.timeoutMs)
    request.on("error", (error: NodeJS.ErrnoException) =>
      finish({
        _tag: "NoAnswer",
        reason: error.code === "EWEBHOOKREFUSED" ? "refused" : "network",
        message: error.code === "EWEBHOOKREFUSED" ? error.message : `${error.code ?? "error"}: ${error.message}`.slice(0, 300),
        durationMs: elapsed()
      })
    )
    request.end(body)
    return Effect.sync(() => {
      settled = true
      clearTimeout(timer)
      request.destroy()
    })
  })
