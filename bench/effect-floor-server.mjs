// The framework floor for http.bench.mjs (see effect-floor-api.mjs), served on PORT.
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { floorServer } from "./effect-floor-api.mjs"

const server = floorServer.pipe(Layer.provide(NodeHttpServer.layer(createServer, { port: Number(process.env.PORT), host: "127.0.0.1" })))
NodeRuntime.runMain(
  Layer.launch(server).pipe(Effect.zipLeft(Effect.sync(() => console.log(`Listening on http://127.0.0.1:${process.env.PORT}`)), { concurrent: true }))
)
