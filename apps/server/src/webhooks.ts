/** Handlers of the Persona webhooks API: wire → Webhooks port → wire, scopes webhook.read / webhook.write. */
import { AcctApi, CurrentPrincipal, fromWebhookRequestAttributes, PersonaErrors, toWebhookAttemptResource, toWebhookResource, toWebhookWithSecretResource } from "@acct/api"
import { renameIssuePaths, requireScope, type Scope, WebhookDeliveries, Webhooks, type WebhooksError } from "@acct/core"
import { HttpApiBuilder, HttpServerRequest } from "@effect/platform"
import { Effect } from "effect"
import { pageLinks } from "./persona.js"

const allowed = (scope: Scope, doing: string) =>
  Effect.flatMap(CurrentPrincipal, (principal) => {
    const denied = requireScope(principal, scope, doing)
    return denied ? Effect.fail(denied) : Effect.void
  })

/** Checks the scope, runs the use of the port, and answers failures in Persona's format. */
const persona = <A, R>(scope: Scope, doing: string, effect: Effect.Effect<A, WebhooksError, R>) =>
  Effect.mapError(Effect.zipRight(allowed(scope, doing), effect), PersonaErrors.toPersonaError)

export const read = <A, R>(effect: Effect.Effect<A, WebhooksError, R>) => persona("webhook.read", "read webhooks", effect)
export const write = <A, R>(effect: Effect.Effect<A, WebhooksError, R>) => persona("webhook.write", "change webhooks", effect)

/**
 * A refused setting named as the request body has it: `data.attributes.enabled-events[0]`
 * (a path already in the body's terms, or none, is left as it is).
 */
const inBody = <A, R>(effect: Effect.Effect<A, WebhooksError, R>) =>
  Effect.mapError(effect, (error) => renameIssuePaths(error, (path) => (path.length === 0 || path[0] === "data" ? path : ["data", "attributes", ...path])))

export const WebhooksLive = HttpApiBuilder.group(AcctApi, "webhooks", (handlers) =>
  Effect.gen(function* () {
    const webhooks = yield* Webhooks
    const deliveries = yield* WebhookDeliveries
    const document = Effect.map((w: Parameters<typeof toWebhookResource>[0]) => ({ data: toWebhookResource(w) }))
    return handlers
      .handle("listWebhooks", ({ urlParams }) =>
        read(
          Effect.gen(function* () {
            const request = yield* HttpServerRequest.HttpServerRequest
            const page = yield* webhooks.list({ after: urlParams["page[after]"], before: urlParams["page[before]"], size: urlParams["page[size]"] })
            return { data: page.items.map(toWebhookResource), links: pageLinks(request, page) }
          })
        )
      )
      .handle("createWebhook", ({ payload }) => {
        const a = payload.data.attributes
        return write(
          Effect.map(
            inBody(webhooks.create({ ...fromWebhookRequestAttributes(a), name: a.name, url: a.url, enabledEvents: a["enabled-events"] })),
            (made) => ({ data: toWebhookWithSecretResource(made.webhook, made.secrets) })
          )
        )
      })
      .handle("getWebhook", ({ path }) => read(document(webhooks.get(path.webhookId))))
      .handle("updateWebhook", ({ path, payload }) => {
        const a = payload.data?.attributes ?? {}
        return write(
          document(inBody(webhooks.update(path.webhookId, fromWebhookRequestAttributes(a))))
        )
      })
      .handle("enableWebhook", ({ path }) => write(document(webhooks.setStatus(path.webhookId, "enabled"))))
      .handle("disableWebhook", ({ path }) => write(document(webhooks.setStatus(path.webhookId, "disabled"))))
      .handle("archiveWebhook", ({ path }) => write(document(webhooks.setStatus(path.webhookId, "archived"))))
      .handle("cloneWebhook", ({ path }) => write(Effect.map(webhooks.clone(path.webhookId), (made) => ({ data: toWebhookWithSecretResource(made.webhook, made.secrets) }))))
      .handle("listWebhookAttempts", ({ path, urlParams }) =>
        read(
          Effect.map(deliveries.attempts(path.webhookId, urlParams["page[size]"] ?? 10), (rows) => ({ data: rows.map(toWebhookAttemptResource) }))
        )
      )
      .handle("rotateWebhookSecret", ({ path, payload }) =>
        write(Effect.map(webhooks.rotateSecret(path.webhookId, payload.meta?.["expires-in-seconds"]), (made) => ({ data: toWebhookWithSecretResource(made.webhook, made.secrets) })))
      )
  })
)
