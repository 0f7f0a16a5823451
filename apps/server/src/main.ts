/**
 * `acct-server`: configuration from the environment, JSON logs, graceful shutdown on
 * SIGTERM/SIGINT (stop accepting, finish in-flight requests, close the database).
 */
import { NodeRuntime } from "@effect/platform-node"
import { Config, ConfigError, Effect, Either, Layer, Logger, LogLevel } from "effect"
import { serverLayer } from "./app.js"
import { ServerConfig } from "./config.js"
import { jsonLinesToStdout } from "./log.js"

/** LOG_LEVEL in any case: trace, debug, info, warn (or warning), error, fatal, none. */
const logLevel = Config.string("LOG_LEVEL").pipe(
  Config.withDefault("info"),
  Config.mapOrFail((text) => {
    const name = text.trim().toLowerCase()
    const level = LogLevel.allLevels.find((l) => l.label.toLowerCase() === name || (name === "warning" && l === LogLevel.Warning))
    return level
      ? Either.right(level)
      : Either.left(ConfigError.InvalidData([], `LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, none; got ${JSON.stringify(text)}`))
  })
)

const main = Effect.gen(function* () {
  const config = yield* ServerConfig
  const level = yield* logLevel
  return yield* Layer.launch(serverLayer(config)).pipe(Logger.withMinimumLogLevel(level))
}).pipe(Effect.provide(jsonLinesToStdout))

NodeRuntime.runMain(main, { disablePrettyLogger: true })
