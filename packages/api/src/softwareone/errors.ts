/**
 * RFC 7807 problem details, as SoftwareOne's Marketplace API answers errors:
 * `{ type, title, status, detail, traceId }` with `application/problem+json`.
 */
import type { AccountsError } from "@acct/core"
import { Schema } from "effect"
import { wireError } from "../wire-error.js"

const ProblemBody = Schema.Struct({
  type: Schema.String,
  title: Schema.String,
  status: Schema.Number,
  detail: Schema.String,
  traceId: Schema.optional(Schema.String)
})
type ProblemBody = typeof ProblemBody.Type

export class Problem {
  constructor(readonly body: ProblemBody) {}
}
export class BadRequest extends Problem {}
export class Unauthenticated extends Problem {}
export class Forbidden extends Problem {}
export class NotFound extends Problem {}
export class Conflict extends Problem {}
export class TooManyRequests extends Problem {}
export class Unavailable extends Problem {}

const wire = <C extends Problem>(Ctor: new (body: ProblemBody) => C, status: number, description: string) =>
  wireError(Ctor, ProblemBody, { decode: (body) => new Ctor(body), encode: (e) => e.body }, {
    status,
    description,
    identifier: `Problem${status}`,
    contentType: "application/problem+json"
  })

export const schemas = {
  BadRequest: wire(BadRequest, 400, "Bad Request: invalid input, or a transition from the wrong state (the detail says why)."),
  Unauthenticated: wire(Unauthenticated, 401, "Missing or invalid bearer token."),
  Forbidden: wire(Forbidden, 403, "The token lacks the permission (scope) for this request."),
  NotFound: wire(NotFound, 404, "Not Found."),
  Conflict: wire(Conflict, 409, "The account was changed concurrently, or a duplicate request is in flight."),
  TooManyRequests: wire(TooManyRequests, 429, "Rate limit exceeded; retry after Retry-After seconds."),
  Unavailable: wire(Unavailable, 503, "A dependency is temporarily unavailable.")
}

const body = (status: number, title: string, detail: string, traceId?: string): ProblemBody => ({
  type: `https://httpstatuses.io/${status}`,
  title,
  status,
  detail,
  ...(traceId !== undefined ? { traceId } : {})
})

/**
 * A domain error as SoftwareOne answers it. A transition from the wrong state is a 400 whose
 * detail says why, as the Marketplace API does.
 */
export const toProblem = (error: AccountsError, traceId?: string): Problem => {
  switch (error._tag) {
    case "InvalidRequest":
    case "Unprocessable":
    case "InvalidState":
      return new BadRequest(body(400, "Bad Request", error.message, traceId))
    case "Unauthorized":
      return new Unauthenticated(body(401, "Unauthorized", error.message, traceId))
    case "Forbidden":
      return new Forbidden(body(403, "Forbidden", error.message, traceId))
    case "NotFound":
      return new NotFound(body(404, "Not Found", error.message, traceId))
    case "Conflict":
      return new Conflict(body(409, "Conflict", error.message, traceId))
    case "RateLimited":
      return new TooManyRequests(body(429, "Too Many Requests", error.message, traceId))
    case "Unavailable":
    case "Timeout":
      return new Unavailable(body(503, "Service Unavailable", error.message, traceId))
  }
}

export const problemBody = body
