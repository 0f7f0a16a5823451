/**
 * The service's outer edge: what happens to every request, one concern per middleware, in the
 * order they run:
 *
 * 1. `requestId` — a `Request-Id: req_…` on every response, and the shaping every answer gets
 *    (a JSON error body where the router left it empty, the RateLimit-* headers);
 * 2. `accessLog` — one structured line per request (method, path, status, duration, request id,
 *    principal; never bodies, keys or personal data);
 * 3. `inFlight` (drain.ts) — counts the request for a graceful shutdown, refuses it once draining;
 * 4. `rateLimit` (rate-limit.ts) — before the key check.
 *
 * Inside the API (`apiEdge`, around the router): writes refused while the database file is
 * lost (database-file.ts), the body read once (request-body.ts), Persona's Persona-Version,
 * Key-Inflection and sparse fieldsets (persona-conventions.ts), and decode failures said for
 * people (decode-errors.ts). Idempotency is the store's: the handler passes the key in the
 * Invocation (request-context.ts), and a replay marks the request for `Idempotent-Replayed`.
 *
 * The platform writes the response before a serve-level middleware regains control, so what
 * must change the response is a pre-response handler: `shapeAnswers`, registered once for the
 * server (not per request: that is a FiberRef update on every request).
 */
import { AcctApi, PERSONA_VERSIONS, PersonaErrors, SoftwareOneErrors } from "@acct/api"
import { randomAlphanumeric } from "@acct/core"
import { RateLimiter } from "@effect/experimental"
import { HttpApiBuilder, HttpApiError, HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Context, Effect, Exit, flow, Layer, Option } from "effect"
import { DatabaseFile, durableWrites } from "./database-file.js"
import { describeRequestIssues } from "./decode-errors.js"
import { AccessLog, causeForLog } from "./log.js"
import { InFlight, inFlight } from "./drain.js"
import { errorResponse, isSoftwareOnePath } from "./error-body.js"
import { decodeIssueKeyNames, isPersonaPath, personaConventions } from "./persona-conventions.js"
import { KnownKeys, rateLimit, rateLimitHeaders } from "./rate-limit.js"
import { requestBody } from "./request-body.js"
import { softwareOnePublicPrefix } from "./softwareone.js"
import { attachRequestContext, pathOf, type RequestContext, requestContextOf } from "./request-context.js"

/**
 * The router answers some failures itself with an empty body (a body that is not JSON, an
 * unknown route, an unexpected defect): give those the same JSON error body as the rest. A 500
 * says which request id to quote, never what broke.
 */
const emptyErrorBodies = (response: HttpServerResponse.HttpServerResponse, request: HttpServerRequest.HttpServerRequest, id: string) => {
  if (response.status < 400 || response.body._tag !== "Empty") return response
  const answer = (title: string, detail?: string) => errorResponse(request.url, id, response.status, title, detail)
  switch (response.status) {
    case 400:
      return answer("Bad Request", "the request body is not valid JSON")
    case 404:
      return answer("Record not found", `no route for ${request.method} ${pathOf(request.url)}`)
    case 405:
      return answer("Method Not Allowed", `${request.method} is not supported here`)
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

interface Exchange extends RequestContext {
  /** The status the client was answered with, for the access log. */
  status: number
}

/**
 * The headers every answer gets from the edge, set in one copy of the response (each
 * `setHeader` copies the response and its headers; up to four did).
 */
const shape = (request: HttpServerRequest.HttpServerRequest, response: HttpServerResponse.HttpServerResponse, exchange: Exchange) => {
  if (clientGone(request)) {
    exchange.status = CLIENT_CLOSED
    return HttpServerResponse.empty({ status: CLIENT_CLOSED })
  }
  const answer = emptyErrorBodies(response, request, exchange.id)
  const headers: Record<string, string> = { "request-id": exchange.id, ...rateLimitHeaders(exchange.limit) }
  // Persona's answers say the API version used (persona-conventions.ts refuses any other).
  if (isPersonaPath(request.url)) headers["persona-version"] = PERSONA_VERSIONS[0]
  // The store answered from the Idempotency-Key's record (a result or a recorded refusal).
  if (exchange.replayed) headers["idempotent-replayed"] = "true"
  // A 429 from the key check (a key's first request in this process) says when to retry, too.
  if (answer.status === 429 && answer.headers["retry-after"] === undefined && exchange.limit) headers["retry-after"] = String(Math.max(1, exchange.limit.resetSeconds))
  exchange.status = answer.status
  return HttpServerResponse.setHeaders(answer, headers)
}

/**
 * Set by the platform on a request once its response went through the pre-response handlers
 * and was written (HttpApp.toHandled). A serve-level middleware that answers by itself (a 429, a
 * 503 while draining) skips both: the platform writes what it returns as it is.
 */
const written = Symbol.for("@effect/platform/HttpApp/handled")

// The four serve-level middlewares run on every request, so each is written as one or two
// steps of the runtime (`contextWithEffect`, `flatMap`) rather than an `Effect.gen`: with
// authentication's likewise, ≈ 25 µs less CPU per GET (bench/README, "2026-12-03 evening").

/** Gives the request its id and context (request-context.ts), for every layer below and for its response. */
const requestId = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R | HttpServerRequest.HttpServerRequest> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const exchange: Exchange = { id: `req_${randomAlphanumeric(24)}`, principal: undefined, limit: undefined, replayed: false, status: 0 }
    attachRequestContext(request, exchange)
    return Effect.map(app, (response) => (written in request ? response : shape(request, response, exchange)))
  })

/** What the platform calls with each response before writing it: the edge's `shape`. */
const shapeHandler: HttpApp.PreResponseHandler = (request, response) =>
  Effect.sync(() => {
    const exchange = requestContextOf(request) as Exchange | undefined
    return exchange === undefined ? response : shape(request, response, exchange)
  })

/**
 * Every answer the platform writes goes through `shape` (given the server's layer:
 * HttpApiBuilder.serve), after any pre-response handler already set around it.
 */
export const shapeAnswers = <A, E, R>(server: Layer.Layer<A, E, R>) =>
  Layer.locallyWith(
    server,
    HttpApp.currentPreResponseHandlers,
    Option.match({
      onNone: () => Option.some(shapeHandler),
      onSome: (before) => Option.some<HttpApp.PreResponseHandler>((request, response) => Effect.flatMap(before(request, response), (shaped) => shapeHandler(request, shaped)))
    })
  )

/** One line per request, once it is answered (log.ts: AccessLog). */
const accessLog = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R | AccessLog> =>
  Effect.contextWithEffect((services: Context.Context<HttpServerRequest.HttpServerRequest | AccessLog>) => {
    const request = Context.get(services, HttpServerRequest.HttpServerRequest)
    const started = performance.now()
    return Effect.flatMap(Effect.exit(app), (exit) =>
      Effect.withFiberRuntime<HttpServerResponse.HttpServerResponse, E>((fiber) => {
        const exchange = requestContextOf(request) as Exchange
        // Zero when a middleware answered by itself (shaped later, by requestId): its own status.
        const status = exchange.status || (Exit.isSuccess(exit) ? exit.value.status : 500)
        Context.get(services, AccessLog).write(
          {
            method: request.method,
            path: pathOf(request.url),
            status,
            durationMs: Math.round((performance.now() - started) * 10) / 10,
            requestId: exchange.id,
            principal: exchange.principal ?? null,
            ...(status >= 500 && Exit.isFailure(exit) ? { failure: causeForLog(exit.cause) } : {})
          },
          fiber.id()
        )
        return exit
      })
    )
  })

export interface EdgeOptions {
  readonly maxBodyBytes: number
  readonly maxImportBytes: number
  /** Requests per minute per caller. */
  readonly rateLimit: number
}

/** The serve-level edge (HttpApiBuilder.serve), on a server layer wrapped in `shapeAnswers`. */
export const edge = (options: EdgeOptions) =>
  flow(rateLimit({ perMinute: options.rateLimit }), inFlight, accessLog, requestId) as (
    app: HttpApp.Default
  ) => HttpApp.Default<never, RateLimiter.RateLimiterStore | KnownKeys | InFlight | AccessLog>

/** The API's own failures that HttpApp types as `never` but that are real at run time. */
const decodeErrorsForPeople = <A, R>(app: Effect.Effect<A, unknown, R>) =>
  Effect.catchAll(app, (error: unknown) =>
    error instanceof HttpApiError.HttpApiDecodeError
      ? Effect.flatMap(HttpServerRequest.HttpServerRequest, (request): Effect.Effect<never, SoftwareOneErrors.BadRequest | PersonaErrors.BadRequest> =>
          isSoftwareOnePath(request.url)
            ? Effect.fail(new SoftwareOneErrors.BadRequest(SoftwareOneErrors.problemBody(400, "Bad Request", describeRequestIssues(error.issues), requestContextOf(request)?.id)))
            : Effect.flatMap(decodeIssueKeyNames(request), (namerOf) => Effect.fail(new PersonaErrors.BadRequest({ errors: [{ title: "Bad Request", details: describeRequestIssues(error.issues, namerOf) }] })))
        )
      : Effect.fail(error)
  )

/** The API-level edge: inside the router, so the payload decoder sees the body read here. */
export const apiEdge = (options: EdgeOptions) =>
  HttpApiBuilder.middleware(
    AcctApi,
    Effect.map(DatabaseFile, (file) => (app) =>
      app.pipe(
        decodeErrorsForPeople,
        personaConventions,
        requestBody({ maxBodyBytes: options.maxBodyBytes, maxImportBytes: options.maxImportBytes }),
        durableWrites(file),
        softwareOnePublicPrefix
      ) as typeof app
    )
  )
