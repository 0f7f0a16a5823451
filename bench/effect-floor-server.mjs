// The framework floor for http.bench.mjs: @effect/platform-node serving one constant JSON
// response — no auth, no SQL, no schemas. Nothing built on it can be faster.
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"

const app = HttpRouter.empty.pipe(HttpRouter.get("*", HttpServerResponse.json({ data: { type: "account" } })))
NodeRuntime.runMain(
  Layer.launch(HttpServer.serve(app).pipe(Layer.provide(NodeHttpServer.layer(createServer, { port: Number(process.env.PORT), host: "127.0.0.1" })))).pipe(
    Effect.zipLeft(Effect.sync(() => console.log(`Listening on http://127.0.0.1:${process.env.PORT}`)), { concurrent: true })
  )
)
