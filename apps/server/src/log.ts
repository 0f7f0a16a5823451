/**
 * The service's logger: one JSON object per line on stdout, the same shape as Effect's
 * `Logger.jsonLogger` (message, logLevel, timestamp, cause, annotations, spans, fiberId) but
 * built without its generic formatting, and written in batches.
 *
 * Why batches: on Linux, writes to a pipe (how log collectors read a service) are synchronous,
 * so a write per request line was a system call on the request path. Lines collected during one
 * turn of the event loop go out in one write at the next; at exit whatever is left is written
 * synchronously, so an orderly stop loses nothing (a SIGKILL may lose the last turn's lines).
 */
import { Cause, FiberId, HashMap, Inspectable, List, Logger } from "effect"
import { writeSync } from "node:fs"

/** Collects text and hands it to `write` once per event-loop turn (and at exit, synchronously). */
export const batchedWriter = (write: (text: string) => void, writeNow: (text: string) => void) => {
  let pending = ""
  let scheduled = false
  const flush = () => {
    scheduled = false
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
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
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
