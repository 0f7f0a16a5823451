/**
 * What a client knows about a failed call beyond its typed error: the server's request id (when
 * an answer came), the idempotency key it sent, and whether the operation may have been applied
 * even though the call failed (a request was sent and its answer lost). The typed errors are
 * acct's domain errors, shared with the store, so these travel beside them: recorded against the
 * error instance, read back with `callFacts`, and also written into the error's message.
 */
export interface CallFacts {
  /** The server's `Request-Id` of the answer that decided the failure, if one came. */
  readonly requestId?: string | undefined
  /** The HTTP status of that answer. */
  readonly status?: number | undefined
  /** The key a keyed operation sent on every attempt. */
  readonly idempotencyKey?: string | undefined
  /** True when an attempt was sent but never answered: the server may have applied it. */
  readonly maybeApplied?: boolean | undefined
}

const recorded = new WeakMap<object, CallFacts>()

/** The facts recorded about `error`, if it came from a client call. */
export const callFacts = (error: unknown): CallFacts =>
  (typeof error === "object" && error !== null ? recorded.get(error) : undefined) ?? {}

/** Adds facts to those already recorded about `error`; returns the error. */
export const recordFacts = <E>(error: E, facts: CallFacts): E => {
  if (typeof error === "object" && error !== null) recorded.set(error, { ...recorded.get(error), ...facts })
  return error
}
