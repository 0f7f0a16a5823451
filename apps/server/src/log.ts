/**
 * The service's logger: one JSON object per line on stdout, the same shape as Effect's
 * `Logger.jsonLogger` (message, logLevel, timestamp, cause, annotations, spans, fiberId) but
 * built without its generic formatting, and written in batches.
 *
 * Why batches: on Linux, writes to a pipe (how log collectors read a service) are synchronous,
 * so a write per request line was a system call (and a pass through Node's stream machinery) on
 * the request path. Lines are collected for up to `maxDelayMs` (or until `maxBytes`) and go out
 * in one write: at 32 connections a write then carries ≈ 13 KB (≈ 50 lines) where a write per
 * event-loop turn carried one or two. At exit whatever is left is written synchronously, so an
 * orderly stop loses nothing (a SIGKILL may lose the last 20 ms).
 */
import { Cause, Context, Effect, FiberId, FiberRef, HashMap, Inspectable, Layer, List, Logger, LogLevel } from "effect"
import { writeSync } from "node:fs"

/** Collects text and hands it to `write` at most `maxDelayMs` later (at once past `maxBytes`; at exit, synchronously). */
export const batchedWriter = (write: (text: string) => void, writeNow: (text: string) => void, { maxBytes = 16_384, maxDelayMs = 20 } = {}) => {
  let pending = ""
  let timer: ReturnType<typeof setTimeout> | undefined
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    if (pending === "") return
    const text = pending
    pending = ""
    write(text)
  }
  process.once("exit", () => {
    if (pending !== "") writeNow(pending)
    pending = ""
  })
  return (line: string) => {
    pending += line
    if (pending.length >= maxBytes) return flush()
    // Not holding the process open: at exit the rest is written by the handler above.
    if (timer === undefined) timer = setTimeout(flush, maxDelayMs).unref()
  }
}

const plain = (u: unknown): unknown => {
  switch (typeof u) {
    case "string":
    case "number":
    case "boolean":
      return u
    case "bigint":
    case "function":
    case "symbol":
      return String(u)
    default:
      return u instanceof Error ? { name: u.name, message: u.message } : Inspectable.toJSON(u)
  }
}

/** One log entry as the JSON line Effect's jsonLogger would print. */
export const formatLine = (options: Logger.Logger.Options<unknown>): string => {
  const { annotations, cause, date, fiberId, logLevel, message, spans } = options
  const annotationsObj: Record<string, unknown> = {}
  for (const [key, value] of HashMap.toEntries(annotations)) annotationsObj[key] = plain(value)
  const spansObj: Record<string, number> = {}
  if (List.isCons(spans)) {
    const now = date.getTime()
    for (const span of spans) spansObj[span.label] = now - span.startTime
  }
  const messages = Array.isArray(message) ? message : [message]
  return JSON.stringify({
    message: messages.length === 1 ? plain(messages[0]) : messages.map(plain),
    logLevel: logLevel.label,
    timestamp: date.toISOString(),
    cause: Cause.isEmpty(cause) ? undefined : Cause.pretty(cause, { renderErrorCause: true }),
    annotations: annotationsObj,
    spans: spansObj,
    fiberId: FiberId.threadName(fiberId)
  })
}

const toStdout = batchedWriter(
  (text) => void process.stdout.write(text),
  (text) => void writeSync(1, text)
)

/** Replaces the default logger with JSON lines on stdout. */
export const jsonLinesToStdout = Logger.replace(
  Logger.defaultLogger,
  Logger.make((options) => toStdout(`${formatLine(options)}\n`))
)

/** What the access log says about one answered request (edge.ts). */
export interface AccessEntry {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly durationMs: number
  readonly requestId: string
  readonly principal: string | null
  /** For a 5xx from a failure: what failed, as `causeForLog` says it. */
  readonly failure?: string
}

/**
 * The line `formatLine` gives `Effect.logInfo("request")` annotated with the entry (or
 * `Effect.logError("request failed", failure)`), built directly: the logger's path — the
 * annotations as a HashMap in a FiberRef, every installed logger called, the entry's fields
 * converted back — cost ≈ 70 µs of a GET's CPU (≈ 400 µs), for a line per request.
 */
export const accessLine = (entry: AccessEntry, fiberId: FiberId.FiberId, date: Date): string => {
  // Written out rather than JSON.stringify of nested objects: timed in the running server, that
  // was 13–15 µs of CPU a line (≈ 2.4 µs in a loop), this 6–8. Strings that may hold anything
  // (the path, the principal, a failure) still go through JSON.stringify, so the line is JSON.
  const { failure } = entry
  const q = JSON.stringify
  return `{"message":${failure === undefined ? '"request"' : `["request failed",${q(failure)}]`},"logLevel":"${failure === undefined ? "INFO" : "ERROR"}","timestamp":"${date.toISOString()}",` +
    `"annotations":{"method":${q(entry.method)},"path":${q(entry.path)},"status":${entry.status},"durationMs":${q(entry.durationMs)},"requestId":${q(entry.requestId)},"principal":${q(entry.principal)}},` +
    `"spans":{},"fiberId":${q(fiberId._tag === "Runtime" ? `#${fiberId.id}` : FiberId.threadName(fiberId))}}`
}

/**
 * The access log: a line per request, at INFO (ERROR for a failure), honouring the minimum log
 * level the service runs with. On stdout beside the logger's lines (the same writer, the same
 * shape); `lines` sends them elsewhere (tests).
 */
export class AccessLog extends Context.Tag("@acct/server/AccessLog")<AccessLog, { readonly write: (entry: AccessEntry, fiberId: FiberId.FiberId) => void }>() {
  static lines = (sink: (line: string) => void) =>
    Layer.effect(
      AccessLog,
      Effect.map(FiberRef.get(FiberRef.currentMinimumLogLevel), (minimum) => ({
        write: (entry, fiberId) => {
          if (LogLevel.greaterThan(minimum, entry.failure === undefined ? LogLevel.Info : LogLevel.Error)) return
          sink(accessLine(entry, fiberId, new Date()))
        }
      }))
    )

  static stdout = AccessLog.lines((line) => toStdout(`${line}\n`))
}

/** Error codes a message may carry (SQLITE_BUSY, ECONNRESET, ERR_STREAM_DESTROYED): names, never values. */
const ERROR_CODE = /\b(?:[A-Z][A-Z0-9]*_[A-Z0-9_]+|E[A-Z]{4,12})\b/g

/** Where in the code a defect was thrown: the first frames' locations, without the message. */
const framesOf = (stack: string | undefined) =>
  (stack ?? "")
    .split("\n")
    .filter((line) => line.trimStart().startsWith("at "))
    .slice(0, 3)
    .map((line) => /\(?([^\s()]+:\d+:\d+)\)?$/.exec(line.trim())?.[1]?.split("/").slice(-2).join("/") ?? "?")

const tagOf = (error: unknown): string => {
  if (typeof error === "object" && error !== null && typeof (error as { _tag?: unknown })._tag === "string") return (error as { _tag: string })._tag
  return error instanceof Error ? error.name : typeof error
}

const textOf = (error: unknown): string => {
  if (error instanceof Error) return error.message
  if (typeof error === "string") return error
  try {
    return JSON.stringify(error) ?? ""
  } catch {
    return ""
  }
}

const describeError = (kind: "failure" | "defect", error: unknown) => {
  const codes = [...new Set(textOf(error).match(ERROR_CODE) ?? [])].slice(0, 5)
  const frames = kind === "defect" && error instanceof Error ? framesOf(error.stack) : []
  return `${kind} ${tagOf(error)}${codes.length > 0 ? ` [${codes.join(", ")}]` : ""}${frames.length > 0 ? ` at ${frames.join(" < ")}` : ""}`
}

/**
 * A failed request's Cause as a log may hold it: which errors (their tags), the error codes
 * their messages name and where a defect was thrown — never the messages themselves, which may
 * quote what the request carried (field values, an upstream's echo of them, a JSON parser's
 * excerpt of the body). The caller got the message in the answer; the request id links the two.
 */
export const causeForLog = (cause: Cause.Cause<unknown>): string => {
  const parts = [
    ...Array.from(Cause.failures(cause), (error) => describeError("failure", error)),
    ...Array.from(Cause.defects(cause), (defect) => describeError("defect", defect))
  ]
  if (parts.length === 0 && Cause.isInterrupted(cause)) parts.push("interrupted")
  return parts.join("; ")
}
