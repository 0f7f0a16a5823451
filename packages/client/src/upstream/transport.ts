/**
 * JSON over HTTP to an upstream account API (Persona, SoftwareOne), with the guarantees every
 * provider shares: a bearer token, a bounded attempt, RetryPolicy on retryable failures only
 * (429 with its hint, 5xx, connection errors, timeouts, malformed answers), one Idempotency-Key
 * per logical operation reused across its retries, pacing by the upstream's RateLimit-* headers,
 * and error responses read back into acct's typed errors.
 */
import { type AccountsError, formatIssues, isAccountsError, issuesOf, RateLimited, RetryPolicy, Timeout, Unavailable } from "@acct/core"
import { type Headers, HttpClient, HttpClientRequest } from "@effect/platform"
import { Duration, Effect, Schema } from "effect"
import { callFacts, recordFacts } from "../call-facts.js"
import { fromResponse, retryAfterSeconds } from "../wire-errors.js"
import { makePacer, readRateLimit } from "./pacer.js"

export interface UpstreamOptions {
  /** For messages: "Persona", "SoftwareOne". */
  readonly name: string
  readonly baseUrl: string
  readonly token: string
  /** Sent with every request (e.g. Persona-Version). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Per attempt; default 10 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
}

export interface UpstreamRequest<A, I> {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE"
  readonly path: string
  readonly urlParams?: Readonly<Record<string, string | number | undefined>> | undefined
  readonly body?: unknown
  /** The same across the retries of one operation. */
  readonly idempotencyKey?: string | undefined
  /** Run when the upstream answers from its record of the key (`Idempotent-Replayed: true`). */
  readonly onReplay?: Effect.Effect<void> | undefined
  readonly schema: Schema.Schema<A, I>
}

/** An error response as a typed error; providers refine the generic reading. */
export type ErrorReader = (status: number, body: unknown, headers: Headers.Headers) => AccountsError

/** The transport failures of an attempt (no answer, or no usable one) as typed errors. */
export const transportError = (name: string, baseUrl: string) => (error: unknown): AccountsError => {
  if (isAccountsError(error)) return error
  const e = error as { _tag?: string; reason?: string; message?: string }
  if (e._tag === "RequestError") return new Unavailable({ message: `cannot reach ${name} at ${baseUrl} (${e.reason ?? "transport"}: ${e.message ?? ""})` })
  return new Unavailable({ message: `unexpected answer from ${name} at ${baseUrl}: ${e.message ?? String(error)}` })
}

const bounded = (name: string, baseUrl: string, timeout: Duration.Duration) => <A>(attempt: Effect.Effect<A, unknown>) =>
  Effect.timeoutFail(attempt, { duration: timeout, onTimeout: () => new Timeout({ message: `${name} at ${baseUrl} did not answer within ${Duration.format(timeout)}` }) })

/** One attempt bounded in time, retried under the policy: what every remote call is. */
export const retried = (retryPolicy: RetryPolicy["Type"], name: string, baseUrl: string, timeout: Duration.Duration) =>
  <A>(attempt: Effect.Effect<A, unknown>): Effect.Effect<A, AccountsError> =>
    retryPolicy.retry(bounded(name, baseUrl, timeout)(attempt).pipe(Effect.mapError(transportError(name, baseUrl))))

/** Connection failures that mean the request never left: nothing can have been applied. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"])

/**
 * Whether a failed attempt may have reached the server and been applied there: it timed out, the
 * connection broke after the request was written, or a gateway answered for a server that may
 * have finished the work (500, 502, 504). A refused connection and a server's own refusal
 * (4xx, 503, 429) were not applied.
 */
export const mayHaveBeenApplied = (error: unknown): boolean => {
  if (error instanceof Timeout) return true
  const { status } = callFacts(error)
  if (status !== undefined) return status === 500 || status === 502 || status === 504
  const e = error as { _tag?: string; cause?: { code?: string; cause?: { code?: string } } }
  if (e._tag !== "RequestError") return false
  const code = e.cause?.code ?? e.cause?.cause?.code
  return code === undefined || !NOT_SENT.has(code)
}

const withMessage = (error: AccountsError, message: string): AccountsError => {
  switch (error._tag) {
    case "Unavailable":
      return new Unavailable({ message, ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}) })
    case "RateLimited":
      return new RateLimited({ message, ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}) })
    case "Timeout":
      return new Timeout({ message })
    default:
      return error
  }
}

/**
 * A keyed operation (one Idempotency-Key on every attempt), retried under `retryPolicy`. Its
 * failure records the key, and says so when the operation may have been applied: some attempt was
 * sent and never answered, and no later answer settled it (a replay of the key would have
 * returned the first result). Repeating the call with the same key is then the safe way to learn
 * the outcome.
 */
export const retriedKeyed = (retryPolicy: RetryPolicy["Type"], name: string, baseUrl: string, timeout: Duration.Duration) =>
  (idempotencyKey: string) =>
  <A>(attempt: Effect.Effect<A, unknown>): Effect.Effect<A, AccountsError> =>
    Effect.suspend(() => {
      let unanswered = false
      const once = bounded(name, baseUrl, timeout)(attempt).pipe(
        Effect.tapError((error) => Effect.sync(() => void (unanswered ||= mayHaveBeenApplied(error)))),
        Effect.mapError(transportError(name, baseUrl))
      )
      return Effect.mapError(retryPolicy.retry(once), (error) => {
        const maybeApplied = unanswered && error.retryable
        const told = maybeApplied
          ? withMessage(
              error,
              `${error.message}. It may have been applied: an attempt was sent and its answer lost. Repeat it with idempotency key ${idempotencyKey} to learn the outcome (a replay returns the first result and never applies it twice)`
            )
          : error
        return recordFacts(told, { ...callFacts(error), idempotencyKey, maybeApplied })
      })
    })

const parseJson = (text: string): unknown => {
  if (text.trim() === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export const makeUpstream = (options: UpstreamOptions, readError: ErrorReader = fromResponse) =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const retryPolicy = yield* RetryPolicy
    const pacer = yield* makePacer
    const baseUrl = options.baseUrl.replace(/\/+$/, "")
    const timeout = Duration.decode(options.timeout ?? "10 seconds")
    const call = retried(retryPolicy, options.name, baseUrl, timeout)

    const attempt = <A, I>(request: UpstreamRequest<A, I>) =>
      Effect.gen(function* () {
        yield* pacer.turn
        const params = Object.entries(request.urlParams ?? {}).filter((entry): entry is [string, string | number] => entry[1] !== undefined)
        let outgoing = HttpClientRequest.make(request.method)(`${baseUrl}${request.path}`).pipe(
          HttpClientRequest.bearerToken(options.token),
          HttpClientRequest.setHeaders({ accept: "application/json", ...options.headers }),
          HttpClientRequest.setUrlParams(params.map(([k, v]) => [k, String(v)] as const))
        )
        if (request.idempotencyKey !== undefined) outgoing = HttpClientRequest.setHeader(outgoing, "idempotency-key", request.idempotencyKey)
        if (request.body !== undefined) outgoing = HttpClientRequest.bodyUnsafeJson(outgoing, request.body)
        const response = yield* http.execute(outgoing)
        yield* pacer.learn(readRateLimit(response.headers), response.status === 429 ? retryAfterSeconds(response.headers) ?? 1 : undefined)
        const body = parseJson(yield* response.text)
        if (request.onReplay !== undefined && response.headers["idempotent-replayed"] === "true") yield* request.onReplay
        if (response.status >= 400) return yield* Effect.fail(readError(response.status, body, response.headers))
        return yield* Schema.decodeUnknown(request.schema)(body).pipe(
          // By path, in words: a message people read (and that a gateway passes on), not a schema dump.
          Effect.mapError((e) => new Unavailable({ message: `malformed answer from ${options.name} to ${request.method} ${request.path}: ${formatIssues(issuesOf(e))}` }))
        )
      })

    return {
      baseUrl,
      /** One logical operation: paced, bounded attempts under the retry policy. */
      request: <A, I>(request: UpstreamRequest<A, I>) => call(attempt(request))
    }
  })
export type Upstream = Effect.Effect.Success<ReturnType<typeof makeUpstream>>
