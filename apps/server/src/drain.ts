/**
 * Graceful shutdown. On SIGTERM the runtime releases layers in reverse order; the drain layer
 * sits outermost, so it goes first, while the request handler is still attached:
 *
 * 1. unready — `/readyz` answers 503 for `readinessDelay` while everything else is still
 *    served, so load balancers notice and stop sending;
 * 2. draining — the listener closes and idle keep-alive connections with it; a new request on a
 *    connection still open gets 503 with `Connection: close`; requests in flight finish;
 * 3. when none is left, or the grace period (counted from SIGTERM) is over, every remaining
 *    connection is closed (half-sent requests, clients that never read), and only then do the
 *    HTTP server and the database close. So the process exits within the grace period whatever
 *    clients do.
 *
 * The webhook dispatcher (when it runs here) is stopped at SIGTERM too, beside all of this: it
 * claims nothing more, and its attempts in flight get the same grace period to finish (those
 * that cannot are abandoned with their leases given back, for another replica or the restart),
 * so an answered attempt is recorded and not sent again after the restart.
 */
import { HttpServerRequest, HttpServerResponse, type HttpApp } from "@effect/platform"
import { WebhookDispatcher } from "@acct/webhooks"
import { Context, Duration, Effect, Fiber, Layer, Option, Schedule } from "effect"
import { refusal } from "./error-body.js"
import { pathOf } from "./request-context.js"

export type Phase = "serving" | "unready" | "draining"

export class InFlight extends Context.Tag("@acct/server/InFlight")<InFlight, { count: number; phase: Phase }>() {
  static layer = Layer.sync(InFlight, () => ({ count: 0, phase: "serving" as Phase }))
}

/** Answered even while draining: a load balancer's probes must see the truth to the end. */
const PROBES = new Set(["/healthz", "/readyz"])

/** Counts a request while it runs; once draining, refuses new ones and closes their connection. */
export const inFlight = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R | InFlight> =>
  Effect.flatMap(InFlight, (state) => {
    if (state.phase === "draining") {
      return Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        PROBES.has(pathOf(request.url))
          ? app
          : Effect.map(refusal(request, 503, "Service unavailable", "this server is shutting down; retry (another replica will answer)"), (response) =>
              HttpServerResponse.setHeaders(response, { connection: "close", "retry-after": "1" })
            )
      )
    }
    state.count++
    return Effect.ensuring(app, Effect.sync(() => void state.count--))
  })

/** What the drain can do to the listening server. */
export interface Listener {
  /** Stop accepting connections and close the idle ones. */
  readonly stopAccepting: () => void
  /** Close every connection still open. */
  readonly closeAll: () => void
}

export interface DrainOptions {
  /** From SIGTERM to the last connection closed. */
  readonly grace: Duration.DurationInput
  /** How long `/readyz` says 503 before the listener closes (within the grace). */
  readonly readinessDelay: Duration.DurationInput
}

const STOP_MARGIN = Duration.millis(500)

export const drainOnShutdown = (options: DrainOptions, listener?: Listener) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const state = yield* InFlight
      const dispatcher = yield* Effect.serviceOption(WebhookDispatcher)
      yield* Effect.addFinalizer(() =>
        Effect.gen(function* () {
          const grace = Duration.decode(options.grace)
          const delay = Duration.min(Duration.decode(options.readinessDelay), grace)
          state.phase = "unready"
          // Kept from the grace: the abandoned leases are given back before the database closes.
          const deliveries = yield* Effect.fork(Option.match(dispatcher, { onNone: () => Effect.void, onSome: (d) => d.stop(Duration.subtract(grace, STOP_MARGIN)) }))
          yield* Effect.logInfo("shutting down: not ready").pipe(Effect.annotateLogs({ readinessDelayMs: Duration.toMillis(delay) }))
          yield* Effect.sleep(delay)
          state.phase = "draining"
          listener?.stopAccepting()
          if (state.count > 0) yield* Effect.logInfo("draining in-flight requests").pipe(Effect.annotateLogs({ inFlight: state.count }))
          // Finalizers are uninterruptible: the wait must be made interruptible for the timeout to work.
          const drained = yield* Effect.sync(() => state.count).pipe(
            Effect.repeat({ until: (n) => n === 0, schedule: Schedule.spaced("10 millis") }),
            Effect.interruptible,
            Effect.timeout(Duration.subtract(grace, delay)),
            Effect.as(true),
            Effect.orElseSucceed(() => false)
          )
          if (!drained) yield* Effect.logWarning("grace period over: closing the remaining connections").pipe(Effect.annotateLogs({ inFlight: state.count }))
          yield* Fiber.join(deliveries)
          listener?.closeAll()
          yield* Effect.logInfo("shutting down")
        })
      )
    })
  )
