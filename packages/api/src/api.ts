import { HttpApi, OpenApi } from "@effect/platform"
import { OpsApi } from "./ops.js"
import { schemas } from "./persona/errors.js"
import { PersonaApi } from "./persona/api.js"

export class AcctApi extends HttpApi.make("acct")
  .add(PersonaApi)
  .add(OpsApi)
  // Any request may be malformed (a body that is not JSON, an unknown field): 400 everywhere.
  .addError(schemas.BadRequest)
  .annotate(OpenApi.Title, "acct")
  .annotate(OpenApi.Description, "Run actions on customer accounts. Persona-compatible under /api/v1.") {}
