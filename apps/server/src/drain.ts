/**
 * Graceful shutdown. On SIGTERM the runtime releases layers in reverse order; the drain layer
 * sits outermost, so it goes first: it marks the service draining (readiness turns 503, so load
 * balancers stop sending), waits for in-flight requests to finish (at most `grace`; then it
 * closes the connections still open, or the listener would wait for them forever), and only
 * then lets the HTTP server and the database close.
 */
import { Context, type Duration, Effect, Layer, Ref, Schedule } from "effect"

export class InFlight extends Context.Tag("@acct/server/InFlight")<
  InFlight,
  { readonly count: Ref.Ref<number>; readonly draining: Ref.Ref<boolean> }
>() {
  static layer = Layer.effect(InFlight, Effect.all({ count: Ref.make(0), draining: Ref.make(false) }))
}

/** Counts a request while it runs. */
export const tracked = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(InFlight, ({ count }) => Effect.acquireUseRelease(Ref.update(count, (n) => n + 1), () => effect, () => Ref.update(count, (n) => n - 1)))

export const drainOnShutdown = (grace: Duration.DurationInput, onGraceExpired: () => void = () => undefined) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const { count, draining } = yield* InFlight
      yield* Effect.addFinalizer(() =>
        Effect.gen(function* () {
          yield* Ref.set(draining, true)
          const waiting = yield* Ref.get(count)
          if (waiting > 0) yield* Effect.logInfo("draining in-flight requests").pipe(Effect.annotateLogs({ inFlight: waiting }))
          // Finalizers are uninterruptible: the wait must be made interruptible for the timeout to work.
          const drained = yield* Ref.get(count).pipe(
            Effect.repeat({ until: (n) => n === 0, schedule: Schedule.spaced("20 millis") }),
            Effect.interruptible,
            Effect.timeout(grace),
            Effect.as(true),
            Effect.orElseSucceed(() => false)
          )
          if (!drained) {
            yield* Effect.logWarning("grace period over: closing the remaining connections").pipe(Effect.annotateLogs({ inFlight: yield* Ref.get(count) }))
            onGraceExpired()
          }
          yield* Effect.logInfo("shutting down")
        })
      )
    })
  )
