// The framework floor for http.bench.mjs: an @effect/platform HttpApi endpoint answering a
// constant — no middleware, no auth, no SQL. Nothing built on HttpApi can be faster.
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { createServer } from "node:http"

class Floor extends HttpApiGroup.make("floor").add(HttpApiEndpoint.get("get", "/healthz").addSuccess(Schema.Struct({ status: Schema.String }))) {}
class Api extends HttpApi.make("floor").add(Floor) {}
const FloorLive = HttpApiBuilder.group(Api, "floor", (handlers) => handlers.handle("get", () => Effect.succeed({ status: "ok" })))
const server = HttpApiBuilder.serve().pipe(
  Layer.provide(HttpApiBuilder.api(Api).pipe(Layer.provide(FloorLive))),
  Layer.provide(NodeHttpServer.layer(createServer, { port: Number(process.env.PORT), host: "127.0.0.1" }))
)
NodeRuntime.runMain(
  Layer.launch(server).pipe(Effect.zipLeft(Effect.sync(() => console.log(`Listening on http://127.0.0.1:${process.env.PORT}`)), { concurrent: true }))
)
