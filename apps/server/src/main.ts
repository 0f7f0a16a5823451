/**
 * `acct-server`: configuration from the environment, JSON logs, graceful shutdown on
 * SIGTERM/SIGINT (stop accepting, finish in-flight requests, close the database).
 */
import { NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer, Logger, LogLevel } from "effect"
import { serverLayer } from "./app.js"
import { ServerConfig } from "./config.js"

const logLevel = Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info))

const main = Effect.gen(function* () {
  const config = yield* ServerConfig
  const level = yield* logLevel
  return yield* Layer.launch(serverLayer(config)).pipe(Logger.withMinimumLogLevel(level))
}).pipe(Effect.provide(Logger.json))

NodeRuntime.runMain(main, { disablePrettyLogger: true })
