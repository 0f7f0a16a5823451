/**
 * The service's outer edge, around every request: a request id (`Request-Id: req_…`) on every
 * response, a body-size limit, one structured log line per request (method, path, status,
 * duration, request id, principal; never bodies, keys or personal data), and a JSON error body
 * for anything the API layer did not answer itself — never a stack trace.
 */
import { randomAlphanumeric } from "@acct/core"
import { HttpApiBuilder, HttpApiError, HttpApp, HttpIncomingMessage, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql"
import { RateLimiter } from "@effect/experimental"
import { Cause, Duration, Effect, Exit, FiberRef, Option } from "effect"
import { sha256 } from "./hash.js"
import { AcctApi, PersonaErrors, SoftwareOneErrors } from "@acct/api"
import { InFlight, tracked } from "./drain.js"
import { errorResponse, isSoftwareOnePath } from "./error-body.js"
import { claim, readBody } from "./idempotency.js"
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./json-depth.js"
import { currentRequest, type RequestContext } from "./request-context.js"

/**
 * The router answers some failures itself with an empty body (a body that is not JSON, an
 * unknown route, a body over the limit, an unexpected defect): give those the same JSON error
 * body as the rest. A 500 says which request id to quote, never what broke.
 */
const emptyErrorBodies = (response: HttpServerResponse.HttpServerResponse, request: HttpServerRequest.HttpServerRequest, id: string) => {
  if (response.status < 400 || response.body._tag !== "Empty") return response
  const answer = (title: string, detail?: string) => errorResponse(request.url, id, response.status, title, detail)
  switch (response.status) {
    case 400:
      return answer("Bad Request", "the request body is not valid JSON")
    case 404:
      return answer("Record not found", `no route for ${request.method} ${request.url.split("?")[0]}`)
    case 405:
      return answer("Method Not Allowed", `${request.method} is not supported here`)
    case 413:
      return answer("Payload Too Large", "the request body is larger than this service accepts")
    case 500:
      return answer("Internal error", `something went wrong on our side; quote request id ${id}`)
    default:
      return answer("Error")
  }
}

/** nginx's status for "the client closed the connection before the answer": only ever logged. */
const CLIENT_CLOSED = 499

/**
 * Whether the caller hung up. Then the answer must have no body: the platform writes a body with
 * `end(body, callback)` and waits for the callback, which Node never calls on a closed socket,
 * and it does so in an uninterruptible region (after the handler was already interrupted by the
 * hang-up), so the request would stay in flight forever and block a graceful shutdown.
 */
const clientGone = (request: HttpServerRequest.HttpServerRequest) => {
  const response = NodeHttpServerRequest.toServerResponse(request)
  return response.destroyed || response.socket?.destroyed === true
}

/** Beyond this much, an oversized upload is cut off instead of drained. */
const DRAIN_LIMIT = 16 * 1024 * 1024

/**
 * Reads and discards an upload we refuse. Closing a socket with unread data makes the kernel
 * send a reset, which can destroy our 413 before the client reads it; draining avoids that.
 */
const drain = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.async<void>((resume) => {
    const incoming = NodeHttpServerRequest.toIncomingMessage(request)
    let seen = 0
    const done = () => resume(Effect.void)
    incoming.on("data", (chunk: Buffer) => {
      seen += chunk.length
      if (seen > DRAIN_LIMIT) incoming.destroy()
    })
    incoming.once("end", done)
    incoming.once("close", done)
    incoming.once("error", done)
    incoming.resume()
  })

interface Exchange extends RequestContext {
  status: number
  /** The caller's rate-limit state, for the RateLimit-* headers. */
  limit: { readonly limit: number; readonly remaining: number; readonly resetSeconds: number } | undefined
}

/** Endpoints that load balancers and people's browsers poll: never rate limited. */
const unmetered = new Set(["/healthz", "/readyz", "/openapi.json", "/docs"])

const withRateLimitHeaders = (response: HttpServerResponse.HttpServerResponse, limit: Exchange["limit"]) =>
  limit === undefined
    ? response
    : HttpServerResponse.setHeaders(response, {
        "ratelimit-limit": String(limit.limit),
        "ratelimit-remaining": String(limit.remaining),
        "ratelimit-reset": String(limit.resetSeconds)
      })

/**
 * Runs every request. Response shaping happens in a pre-response handler because the platform
 * writes a successful response before outer middleware regains control.
 */
export interface EdgeOptions {
  readonly maxBodyBytes: number
  /** Requests per minute per caller. */
  readonly rateLimit: number
  /** How long an unfinished Idempotency-Key record blocks its retries. */
  readonly idempotencyStaleMs: number
}

export const edge = (options: EdgeOptions) => (app: HttpApp.Default): HttpApp.Default<never, SqlClient.SqlClient | RateLimiter.RateLimiter | InFlight> =>
  Effect.gen(function* () {
    const { maxBodyBytes } = options
    const request = yield* HttpServerRequest.HttpServerRequest
    const limiter = yield* RateLimiter.RateLimiter
    const exchange: Exchange = { id: `req_${randomAlphanumeric(24)}`, principal: undefined, status: 0, limit: undefined }
    const started = performance.now()
    const shape = (req: HttpServerRequest.HttpServerRequest, response: HttpServerResponse.HttpServerResponse) => {
      if (clientGone(req)) {
        exchange.status = CLIENT_CLOSED
        return HttpServerResponse.empty({ status: CLIENT_CLOSED })
      }
      const shaped = withRateLimitHeaders(HttpServerResponse.setHeader(emptyErrorBodies(response, req, exchange.id), "request-id", exchange.id), exchange.limit)
      exchange.status = shaped.status
      return shaped
    }
    // What to do with the final response once known (record it for its idempotency key).
    let settle: (response: HttpServerResponse.HttpServerResponse) => Effect.Effect<void> = () => Effect.void
    yield* HttpApp.appendPreResponseHandler((req, response) =>
      Effect.sync(() => shape(req, response)).pipe(Effect.tap((shaped) => settle(shaped)))
    )
    const run = Effect.gen(function* () {
      const path = request.url.split("?")[0]!
      if (!unmetered.has(path)) {
        // Per caller: the bearer token's hash (unauthenticated requests share their address's budget).
        const caller = request.headers.authorization ? sha256(request.headers.authorization) : `ip:${Option.getOrElse(request.remoteAddress, () => "unknown")}`
        const verdict = yield* Effect.either(limiter.consume({ key: `acct:${caller}`, limit: options.rateLimit, window: "1 minute", algorithm: "fixed-window", onExceeded: "fail" }))
        if (verdict._tag === "Right") {
          exchange.limit = { limit: verdict.right.limit, remaining: verdict.right.remaining, resetSeconds: Math.max(0, Math.ceil(Duration.toSeconds(verdict.right.resetAfter))) }
        } else if (verdict.left.reason === "Exceeded") {
          const retryAfter = Math.max(1, Math.ceil(Duration.toSeconds(verdict.left.retryAfter)))
          exchange.limit = { limit: options.rateLimit, remaining: 0, resetSeconds: retryAfter }
          const refused = errorResponse(request.url, exchange.id, 429, "Rate limit exceeded", `this API key may make ${options.rateLimit} requests per minute; retry in ${retryAfter} s`)
          return shape(request, HttpServerResponse.setHeader(refused, "retry-after", String(retryAfter)))
        } else {
          // Counters unavailable: serve without limiting rather than refuse everyone.
          yield* Effect.logWarning("rate-limit counters unavailable; request not limited").pipe(Effect.annotateLogs({ requestId: exchange.id }))
        }
      }
      if (Number(request.headers["content-length"] ?? 0) > maxBodyBytes) {
        yield* drain(request)
        return shape(request, HttpServerResponse.empty({ status: 413 }))
      }
      const body = yield* readBody(request)
      const claimed = yield* claim(request, Option.getOrElse(body, () => ""), exchange.id, options.idempotencyStaleMs)
      if (claimed._tag === "Answer") return shape(request, claimed.response)
      if (claimed._tag === "Run") settle = claimed.settle
      return yield* app.pipe(Effect.onInterrupt(() => (claimed._tag === "Run" ? claimed.release : Effect.void)))
    })
    const exit = yield* run.pipe(HttpIncomingMessage.withMaxBodySize(Option.some(maxBodyBytes)), Effect.locally(currentRequest, exchange), tracked, Effect.exit)
    const annotations = {
      method: request.method,
      path: request.url.split("?")[0],
      status: exchange.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      requestId: exchange.id,
      principal: exchange.principal ?? null
    }
    yield* (exchange.status >= 500 && Exit.isFailure(exit)
      ? Effect.logError("request failed", Cause.pretty(exit.cause))
      : Effect.logInfo("request")
    ).pipe(Effect.annotateLogs(annotations))
    return yield* exit
  })

type DecodeIssue = HttpApiError.HttpApiDecodeError["issues"][number]

/**
 * A decode failure as one line: `path: problem; …`. Schema checks an optional field against
 * its type and against `undefined`, so each bad optional value comes with a second, useless
 * "Expected undefined" issue for the same path: that one is left out.
 */
export const describeIssues = (issues: ReadonlyArray<DecodeIssue>): string => {
  const where = (issue: DecodeIssue) => issue.path.map(String).join(".")
  return issues
    .filter((issue) => !(issue.message.startsWith("Expected undefined") && issues.some((other) => other !== issue && where(other) === where(issue))))
    .map((issue) => `${issue.path.length > 0 ? `${where(issue)}: ` : ""}${issue.message}`)
    .join("; ")
}

export const apiErrors = HttpApiBuilder.middleware(AcctApi, (app) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const badRequest = (detail: string) =>
      Effect.flatMap(FiberRef.get(currentRequest), (ctx) =>
        Effect.fail(
          isSoftwareOnePath(request.url)
            ? new SoftwareOneErrors.BadRequest(SoftwareOneErrors.problemBody(400, "Bad Request", detail, ctx?.id))
            : new PersonaErrors.BadRequest({ errors: [{ title: "Bad Request", details: detail }] })
        )
      )
    const hasBody = (request.headers["content-length"] ?? "0") !== "0" || request.headers["transfer-encoding"] !== undefined
    if ((request.method === "POST" || request.method === "PATCH") && hasBody) {
      const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
      if (type !== "application/json" && type !== "application/vnd.api+json") {
        return yield* badRequest(`Content-Type must be application/json, got ${JSON.stringify(type || "none")}`)
      }
      // Read once here; the platform caches the text for the payload decoding that follows.
      const body = yield* Effect.orElseSucceed(request.text, () => "")
      if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
        return yield* badRequest(`the request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`)
      }
    }
    return yield* app.pipe(
      // The API layer's own schema failures, typed `never` by HttpApp but real at run time.
      Effect.catchAll((error: unknown) =>
        error instanceof HttpApiError.HttpApiDecodeError
          ? badRequest(describeIssues(error.issues))
          : Effect.fail(error as PersonaErrors.BadRequest)
      )
    )
  })
)
