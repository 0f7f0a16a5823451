/** Operations endpoints, unauthenticated: liveness and readiness. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"

export class NotReady extends Schema.Class<NotReady>("NotReady")(
  { status: Schema.Literal("unavailable"), reason: Schema.String },
  HttpApiSchema.annotations({ status: 503, description: "A dependency (the database) is not reachable." })
) {}

export class OpsApi extends HttpApiGroup.make("ops")
  .add(
    HttpApiEndpoint.get("health", "/healthz")
      .addSuccess(Schema.Struct({ status: Schema.Literal("ok") }))
      .annotate(OpenApi.Summary, "Liveness: the process answers")
  )
  .add(
    HttpApiEndpoint.get("ready", "/readyz")
      .addSuccess(Schema.Struct({ status: Schema.Literal("ready") }))
      .addError(NotReady)
      .annotate(OpenApi.Summary, "Readiness: the database answers")
  ) {}
