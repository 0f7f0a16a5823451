// The framework floor: an @effect/platform HttpApi endpoint (GET /healthz) answering a constant —
// no middleware, no auth, no SQL. Nothing built on HttpApi can be faster. Served over HTTP by
// effect-floor-server.mjs (http.bench.mjs) and counted in process by request-work.bench.ts.
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { Effect, Layer, Schema } from "effect"

class Floor extends HttpApiGroup.make("floor").add(HttpApiEndpoint.get("get", "/healthz").addSuccess(Schema.Struct({ status: Schema.String }))) {}
class Api extends HttpApi.make("floor").add(Floor) {}
const FloorLive = HttpApiBuilder.group(Api, "floor", (handlers) => handlers.handle("get", () => Effect.succeed({ status: "ok" })))

/** The floor's routes, to be given an HttpServer. */
export const floorServer = HttpApiBuilder.serve().pipe(Layer.provide(HttpApiBuilder.api(Api).pipe(Layer.provide(FloorLive))))
