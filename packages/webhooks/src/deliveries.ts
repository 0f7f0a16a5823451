/** The delivery log and replays (core's WebhookDeliveries) on the local store's queue. */
import { type AcctEvent, EventId, Events, InvalidRequest, NotFound, type ReplayRequest, WebhookDeliveries, Webhooks } from "@acct/core"
import { dbFailures, makeWebhookQueue } from "@acct/store-sql"
import { Clock, Effect, Layer } from "effect"

/** At most this many events in one replay (`--since` far back): replay in parts beyond it. */
export const REPLAY_MAX_EVENTS = 100_000

export const WebhookDeliveriesLive = Layer.effect(
  WebhookDeliveries,
  Effect.gen(function* () {
    const queue = yield* makeWebhookQueue
    const events = yield* Events
    const webhooks = yield* Webhooks

    const replay = (request: ReplayRequest) =>
      Effect.gen(function* () {
        if ((request.eventId === undefined) === (request.since === undefined)) {
          return yield* new InvalidRequest({ message: "replay: give an event id or a time to replay from (one of them)" })
        }
        const chosen: Array<AcctEvent> = []
        if (request.eventId !== undefined) {
          if (!EventId.is(request.eventId)) return yield* NotFound.of("event", request.eventId)
          chosen.push(yield* events.get(request.eventId))
        } else {
          let after: string | undefined
          do {
            const page = yield* events.list({ since: request.since, size: 100, after })
            chosen.push(...page.items)
            after = page.next ?? undefined
          } while (after !== undefined && chosen.length < REPLAY_MAX_EVENTS)
        }
        const targets = request.webhookId !== undefined ? [yield* webhooks.get(request.webhookId)] : (yield* dbFailures(queue.enabled)).map((e) => e.webhook)
        const at = new Date(yield* Clock.currentTimeMillis)
        let deliveries = 0
        // Oldest first, as they were committed.
        for (const event of chosen.reverse()) {
          const to = targets.filter((w) => request.webhookId !== undefined || w.wants(event.name))
          deliveries += yield* dbFailures(queue.replay([{ seq: event.seq, id: event.id, name: event.name }], to, at))
        }
        return { events: chosen.length, deliveries }
      })

    return {
      attempts: (webhookId, size) =>
        Effect.gen(function* () {
          if (!Number.isInteger(size) || size < 1 || size > 100) return yield* new InvalidRequest({ message: `page[size]: expected a whole number from 1 to 100, got ${size}` })
          const webhook = yield* webhooks.get(webhookId)
          return yield* dbFailures(queue.attempts(webhook.id, size))
        }),
      replay
    }
  })
)
