/**
 * Errors the service answers outside the handlers (rate limits, idempotency, body limits,
 * unknown routes) in the format of the surface the request was for: Persona's
 * `{"errors":[{title, details}]}` under /api/v1, RFC 7807 problem details under /v1.
 */
import { type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { requestContextOf } from "./request-context.js"

/** SoftwareOne's paths: `/v1/…` and `/public/v1/…` (its current documentation's prefix). */
export const isSoftwareOnePath = (url: string) => url.startsWith("/v1/") || url.startsWith("/public/v1/")

export const problem = (status: number, title: string, detail: string, traceId: string) =>
  HttpServerResponse.unsafeJson(
    { type: `https://httpstatuses.io/${status}`, title, status, detail, traceId },
    { status, contentType: "application/problem+json" }
  )

export const errorResponse = (url: string, requestId: string, status: number, title: string, detail?: string) =>
  isSoftwareOnePath(url)
    ? problem(status, title, detail ?? title, requestId)
    : HttpServerResponse.unsafeJson({ errors: [{ title, ...(detail !== undefined ? { details: detail } : {}) }] }, { status })

/** `errorResponse` for the current request (its id is the problem's traceId). */
export const refusal = (request: HttpServerRequest.HttpServerRequest, status: number, title: string, detail?: string) =>
  Effect.sync(() => errorResponse(request.url, requestContextOf(request)?.id ?? "", status, title, detail))
