/** Bearer-key authentication, shared by every authenticated group; provides the caller. */
import { Principal } from "@acct/core"
import { HttpApiMiddleware, HttpApiSecurity, OpenApi } from "@effect/platform"
import { Context, Schema } from "effect"
import { schemas } from "./persona/errors.js"
import { schemas as problems } from "./softwareone/errors.js"

/** The authenticated caller of the current request. */
export class CurrentPrincipal extends Context.Tag("@acct/api/CurrentPrincipal")<CurrentPrincipal, Principal>() {}

export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("Authentication", {
  failure: Schema.Union(schemas.Unauthenticated, schemas.TooManyRequests, schemas.Unavailable),
  provides: CurrentPrincipal,
  security: {
    bearer: HttpApiSecurity.bearer.pipe(
      HttpApiSecurity.annotate(
        OpenApi.Description,
        "An acct API key: `Authorization: Bearer acct_…` (create one with `acct keys create`)."
      )
    )
  }
}) {}

/** The same bearer keys, answering failures as RFC 7807 problems (the SoftwareOne surface). */
export class ProblemAuthentication extends HttpApiMiddleware.Tag<ProblemAuthentication>()("ProblemAuthentication", {
  failure: Schema.Union(problems.Unauthenticated, problems.TooManyRequests, problems.Unavailable),
  provides: CurrentPrincipal,
  security: { bearer: HttpApiSecurity.bearer }
}) {}
