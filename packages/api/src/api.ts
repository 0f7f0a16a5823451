import { VERSION } from "@acct/core/version"
import { HttpApi, OpenApi } from "@effect/platform"
import { documentEdge } from "./extensions.js"
import { OpsApi } from "./ops.js"
import { schemas } from "./persona/errors.js"
import { SoftwareOneApi } from "./softwareone/api.js"
import { schemas as problems } from "./softwareone/errors.js"
import { PersonaApi } from "./persona/api.js"
import { EventsApi } from "./persona/events.js"
import { WebhooksApi } from "./persona/webhooks.js"

export class AcctApi extends HttpApi.make("acct")
  .add(PersonaApi)
  .add(EventsApi)
  .add(WebhooksApi)
  .add(SoftwareOneApi)
  .add(OpsApi)
  // Any request may be malformed (a body that is not JSON, an unknown field): 400 everywhere,
  // in the format of the surface it was for.
  .addError(schemas.BadRequest)
  .addError(problems.BadRequest)
  .annotate(OpenApi.Title, "acct")
  .annotate(OpenApi.Version, VERSION)
  .annotate(OpenApi.Description, "Run actions on customer accounts. Persona-compatible under /api/v1, SoftwareOne-compatible under /public/v1/accounts/accounts (and /v1/accounts/accounts).")
  .annotate(OpenApi.Transform, documentEdge) {}
