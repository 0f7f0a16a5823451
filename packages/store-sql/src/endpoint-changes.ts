/**
 * A notice, inside one process, that an endpoint changed (enabled, disabled, updated, its
 * secret rotated): the dispatcher then reads the endpoints at once instead of at its next poll,
 * so a newly enabled endpoint gets the events committed right after it without waiting a poll
 * interval. A hint like the feed's wake-ups: other processes learn of the change at their poll.
 */
import { Effect, PubSub, Stream } from "effect"

export class EndpointChanges extends Effect.Service<EndpointChanges>()("@acct/store-sql/EndpointChanges", {
  effect: Effect.map(PubSub.sliding<void>(1), (hub) => ({
    changed: Effect.asVoid(PubSub.publish(hub, undefined)),
    /** Emits after each change from the moment it has run (in a scope). */
    subscribe: Stream.fromPubSub(hub, { scoped: true })
  }))
}) {}
