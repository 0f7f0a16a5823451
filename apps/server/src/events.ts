/** Handlers of the events API (Persona's `/events`): the Events port → Persona's event resource. */
import { AcctApi, CurrentPrincipal, replaySince, toEventResource, toListEventsQuery } from "@acct/api"
import { Events, requireEventsRead, WebhookDeliveries } from "@acct/core"
import { HttpApiBuilder, HttpServerRequest } from "@effect/platform"
import { Effect, Either } from "effect"
import { pageLinks, persona } from "./persona.js"
import { write } from "./webhooks.js"

const requireRead = Effect.flatMap(CurrentPrincipal, requireEventsRead)

export const EventsLive = HttpApiBuilder.group(AcctApi, "events", (handlers) =>
  Effect.gen(function* () {
    const events = yield* Events
    const deliveries = yield* WebhookDeliveries
    const replayed = (done: { readonly events: number; readonly deliveries: number }) => ({ meta: done })
    return handlers
      .handle("listEvents", ({ urlParams }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            const request = yield* HttpServerRequest.HttpServerRequest
            const query = yield* Either.match(toListEventsQuery(urlParams), { onLeft: Effect.fail, onRight: Effect.succeed })
            const page = yield* events.list(query)
            return { data: page.items.map(toEventResource), links: pageLinks(request, page) }
          })
        )
      )
      .handle("getEvent", ({ path }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            return { data: toEventResource(yield* events.get(path.eventId)) }
          })
        )
      )
      .handle("replayEvent", ({ path, payload }) => write(Effect.map(deliveries.replay({ eventId: path.eventId, webhookId: payload.meta?.["webhook-id"] }), replayed)))
      .handle("replayEvents", ({ payload }) =>
        write(
          Effect.gen(function* () {
            const since = yield* Either.match(replaySince(payload.meta["created-at-start"]), { onLeft: Effect.fail, onRight: Effect.succeed })
            return replayed(yield* deliveries.replay({ since, webhookId: payload.meta["webhook-id"] }))
          })
        )
      )
  })
)
