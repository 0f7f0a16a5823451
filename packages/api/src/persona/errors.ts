/**
 * Persona's error bodies, exactly: `{"errors":[{"title": …, "details": …}]}` (401 items carry a
 * title only). One class per status, because HttpApi maps a schema to one status; the encoded
 * form of each class is the body, with no tag of ours in it.
 */
import type { AccountsError } from "@acct/core"
import { Schema } from "effect"
import { wireError } from "../wire-error.js"

const ErrorItem = Schema.Struct({ title: Schema.String, details: Schema.optional(Schema.String) })
type ErrorItem = typeof ErrorItem.Type

abstract class PersonaErrorBase {
  readonly errors: ReadonlyArray<ErrorItem>
  constructor(args: { readonly errors: ReadonlyArray<ErrorItem> }) {
    this.errors = args.errors
  }
}

export class BadRequest extends PersonaErrorBase {}
export class Unauthenticated extends PersonaErrorBase {}
export class Forbidden extends PersonaErrorBase {}
export class NotFound extends PersonaErrorBase {}
export class Conflict extends PersonaErrorBase {}
export class Unprocessable extends PersonaErrorBase {}
export class TooManyRequests extends PersonaErrorBase {}
export class Unavailable extends PersonaErrorBase {}

const wire = <C extends PersonaErrorBase>(
  Ctor: new (args: { readonly errors: ReadonlyArray<ErrorItem> }) => C,
  status: number,
  description: string,
  item: Schema.Schema<ErrorItem> = ErrorItem
) =>
  wireError(Ctor, Schema.Struct({ errors: Schema.Array(item) }), { decode: (body) => new Ctor(body), encode: (error) => ({ errors: error.errors }) }, {
    status,
    description,
    identifier: `PersonaError${status}`
  })

export const schemas = {
  BadRequest: wire(BadRequest, 400, "The request was unacceptable, often due to invalid parameters."),
  Unauthenticated: wire(Unauthenticated, 401, "An invalid API key was provided.", Schema.Struct({ title: Schema.String })),
  Forbidden: wire(Forbidden, 403, "The API key lacks the permission (scope) for this request."),
  NotFound: wire(NotFound, 404, "The requested resource doesn’t exist."),
  Conflict: wire(Conflict, 409, "The request conflicts with the resource's current state or another request."),
  Unprocessable: wire(Unprocessable, 422, "The request modifies the resource in an unacceptable way."),
  TooManyRequests: wire(TooManyRequests, 429, "The API key's rate limit has been exceeded. Retry after the time in Retry-After."),
  Unavailable: wire(Unavailable, 503, "A dependency (the database) is temporarily unavailable; retry later.")
}

export type PersonaError = BadRequest | Unauthenticated | Forbidden | NotFound | Conflict | Unprocessable | TooManyRequests | Unavailable

const one = (title: string, details?: string) => [{ title, ...(details !== undefined ? { details } : {}) }]

/** A domain error as the Persona surface answers it. */
export const toPersonaError = (error: AccountsError): PersonaError => {
  switch (error._tag) {
    case "InvalidRequest":
      return new BadRequest({ errors: one("Bad Request", error.message) })
    case "Unauthorized":
      return new Unauthenticated({ errors: [{ title: error.message }] })
    case "Forbidden":
      return new Forbidden({ errors: one("Forbidden", error.message) })
    case "NotFound":
      return new NotFound({ errors: one("Record not found", error.message) })
    case "Conflict":
      return new Conflict({ errors: one("Conflict", error.message) })
    case "InvalidState":
      return new Conflict({ errors: one("Invalid state", error.message) })
    case "Unprocessable":
      return new Unprocessable({ errors: one("Unprocessable entity", error.message) })
    case "RateLimited":
      return new TooManyRequests({ errors: one("Rate limit exceeded", error.message) })
    case "Unavailable":
    case "Timeout":
      return new Unavailable({ errors: one("Service unavailable", error.message) })
  }
}


