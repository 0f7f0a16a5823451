/**
 * The service's outer edge, around every request: a request id (`Request-Id: req_…`) on every
 * response, a body-size limit, one structured log line per request (method, path, status,
 * duration, request id, principal; never bodies, keys or personal data), and a JSON error body
 * for anything the API layer did not answer itself — never a stack trace.
 */
import { isAccountsError, randomAlphanumeric } from "@acct/core"
import { HttpApiBuilder, HttpApiError, type HttpApp, HttpIncomingMessage, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Effect, Option } from "effect"
import { AcctApi, PersonaErrors } from "@acct/api"
import { currentRequest, type RequestContext } from "./request-context.js"

const persona = (status: number, title: string, details?: string) =>
  HttpServerResponse.unsafeJson({ errors: [{ title, ...(details !== undefined ? { details } : {}) }] }, { status })

/** What to answer for a failure no handler turned into a response. */
const responseFor = (cause: Cause.Cause<unknown>, request: HttpServerRequest.HttpServerRequest, ctx: RequestContext) => {
  const error = Cause.squash(cause) as { _tag?: string; reason?: string; message?: string; cause?: unknown } | undefined
  const described = String((error as { cause?: { message?: string } })?.cause?.message ?? error?.message ?? "")
  if (error?._tag === "RouteNotFound") return persona(404, "Record not found", `no route for ${request.method} ${request.url.split("?")[0]}`)
  if (error?._tag === "RequestError") {
    if (/max(imum)?\s*body|too large|exceed/i.test(described)) return persona(413, "Payload Too Large", "the request body is larger than this service accepts")
    return persona(400, "Bad Request", `the request body is not valid JSON${described ? ` (${described.slice(0, 120)})` : ""}`)
  }
  if (isAccountsError(error) && error.retryable) return persona(503, "Service unavailable", error.message)
  return persona(500, "Internal error", `something went wrong on our side; quote request id ${ctx.id}`)
}

/**
 * The router answers some failures itself with an empty body (a body that is not JSON, an
 * unknown route, a body over the limit): give those the same JSON error body as the rest.
 */
const emptyErrorBodies = (response: HttpServerResponse.HttpServerResponse, request: HttpServerRequest.HttpServerRequest) => {
  if (response.status < 400 || response.body._tag !== "Empty") return response
  switch (response.status) {
    case 400:
      return persona(400, "Bad Request", "the request body is not valid JSON")
    case 404:
      return persona(404, "Record not found", `no route for ${request.method} ${request.url.split("?")[0]}`)
    case 413:
      return persona(413, "Payload Too Large", "the request body is larger than this service accepts")
    default:
      return persona(response.status, "Error")
  }
}

export const edge = (maxBodyBytes: number) => (app: HttpApp.Default): HttpApp.Default =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const ctx: RequestContext = { id: `req_${randomAlphanumeric(24)}`, principal: undefined }
    const started = performance.now()
    let failure: Cause.Cause<unknown> | undefined
    const response = yield* app.pipe(
      HttpIncomingMessage.withMaxBodySize(Option.some(maxBodyBytes)),
      Effect.locally(currentRequest, ctx),
      Effect.catchAllCause((cause) => {
        failure = cause
        return Effect.succeed(responseFor(cause, request, ctx))
      })
    )
    const answered = emptyErrorBodies(response, request)
    const annotations = {
      method: request.method,
      path: request.url.split("?")[0],
      status: answered.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      requestId: ctx.id,
      principal: ctx.principal ?? null
    }
    yield* (answered.status >= 500
      ? Effect.logError("request failed", ...(failure ? [Cause.pretty(failure)] : []))
      : Effect.logInfo("request")
    ).pipe(Effect.annotateLogs(annotations))
    return HttpServerResponse.setHeader(answered, "request-id", ctx.id)
  })

/**
 * Inside the API layer: schema failures become Persona's 400 body naming the field, and a
 * body that is not JSON is refused before decoding.
 */
export const apiErrors = HttpApiBuilder.middleware(AcctApi, (app) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    if ((request.method === "POST" || request.method === "PATCH") && request.headers["content-length"] !== "0") {
      const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
      if (type !== "application/json" && type !== "application/vnd.api+json") {
        return yield* Effect.fail(badRequest(`Content-Type must be application/json, got ${JSON.stringify(type || "none")}`))
      }
    }
    return yield* app
  }).pipe(
    // The API layer's own schema failures, typed `never` by HttpApp but real at run time.
    Effect.catchAll((error: unknown) =>
      Effect.fail(
        error instanceof HttpApiError.HttpApiDecodeError
          ? badRequest(error.issues.map((i) => `${i.path.length > 0 ? `${i.path.map(String).join(".")}: ` : ""}${i.message}`).join("; "))
          : (error as PersonaErrors.BadRequest)
      )
    )
  )
)

const badRequest = (details: string) => new PersonaErrors.BadRequest({ errors: [{ title: "Bad Request", details }] })
