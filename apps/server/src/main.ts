/**
 * `acct-server`: configuration from the environment, JSON logs, graceful shutdown on
 * SIGTERM/SIGINT (stop accepting, finish in-flight requests, close the database).
 */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Config, ConfigError, Effect, Either, Layer, Logger, LogLevel, Option } from "effect"
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

/** What an operator needs to fix a failed start: the setting, the database or the port. */
const startupProblem = (error: unknown): string => {
  if (ConfigError.isConfigError(error)) return String(error)
  const failure = error as { readonly _tag?: string; readonly message?: string; readonly cause?: { readonly message?: string } }
  // The platform's listen failure says only "An error has occurred"; the reason is its cause.
  if (failure._tag === "ServeError" && failure.cause?.message) return `cannot listen: ${failure.cause.message}`
  return failure.message ?? String(error)
}

const main = Effect.gen(function* () {
  const config = yield* ServerConfig
  const level = yield* logLevel
  return yield* Layer.launch(serverLayer(config)).pipe(Logger.withMinimumLogLevel(level))
}).pipe(
  // One line saying why, instead of the runtime's report with a stack trace; a defect (a bug)
  // keeps its full cause.
  Effect.tapErrorCause((cause) =>
    Cause.isInterruptedOnly(cause)
      ? Effect.void
      : Option.match(Cause.failureOption(cause), {
          onNone: () => Effect.logError("acct-server stopped on an unexpected error", cause),
          onSome: (error) => Effect.logError(`acct-server cannot start: ${startupProblem(error)}`)
        })
  ),
  Effect.provide(jsonLinesToStdout)
)

NodeRuntime.runMain(main, { disablePrettyLogger: true, disableErrorReporting: true })
