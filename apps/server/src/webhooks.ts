/** Handlers of the Persona webhooks API: wire → Webhooks port → wire, scopes webhook.read / webhook.write. */
import { AcctApi, CurrentPrincipal, PersonaErrors, toWebhookAttemptResource, toWebhookResource, toWebhookWithSecretResource } from "@acct/api"
import { makeWebhookQueue, dbFailures } from "@acct/store-sql"
import { requireScope, type Scope, type WebhookChanges, Webhooks, type WebhooksError } from "@acct/core"
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

/** The request's attributes as the port's changes (create and update take the same ones). */
const changesOf = (a: {
  readonly name?: string | undefined
  readonly url?: string | undefined
  readonly description?: string | null | undefined
  readonly "enabled-events"?: ReadonlyArray<string> | undefined
  readonly "api-key-inflection"?: WebhookChanges["keyInflection"]
  readonly "api-attributes-blocklist"?: ReadonlyArray<string> | undefined
  readonly "api-version"?: string | undefined
}): WebhookChanges => ({
  name: a.name,
  url: a.url,
  description: a.description,
  enabledEvents: a["enabled-events"],
  keyInflection: a["api-key-inflection"],
  attributesBlocklist: a["api-attributes-blocklist"],
  apiVersion: a["api-version"]
})

const read = <A, R>(effect: Effect.Effect<A, WebhooksError, R>) => persona("webhook.read", "read webhooks", effect)
const write = <A, R>(effect: Effect.Effect<A, WebhooksError, R>) => persona("webhook.write", "change webhooks", effect)

export const WebhooksLive = HttpApiBuilder.group(AcctApi, "webhooks", (handlers) =>
  Effect.gen(function* () {
    const webhooks = yield* Webhooks
    const queue = yield* makeWebhookQueue
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
            webhooks.create({ ...changesOf(a), name: a.name, url: a.url, enabledEvents: a["enabled-events"] }),
            (made) => ({ data: toWebhookWithSecretResource(made.webhook, made.secrets) })
          )
        )
      })
      .handle("getWebhook", ({ path }) => read(document(webhooks.get(path.webhookId))))
      .handle("updateWebhook", ({ path, payload }) => {
        const a = payload.data?.attributes ?? {}
        return write(
          document(webhooks.update(path.webhookId, changesOf(a)))
        )
      })
      .handle("enableWebhook", ({ path }) => write(document(webhooks.setStatus(path.webhookId, "enabled"))))
      .handle("disableWebhook", ({ path }) => write(document(webhooks.setStatus(path.webhookId, "disabled"))))
      .handle("archiveWebhook", ({ path }) => write(document(webhooks.setStatus(path.webhookId, "archived"))))
      .handle("cloneWebhook", ({ path }) => write(Effect.map(webhooks.clone(path.webhookId), (made) => ({ data: toWebhookWithSecretResource(made.webhook, made.secrets) }))))
      .handle("listWebhookAttempts", ({ path, urlParams }) =>
        read(
          Effect.gen(function* () {
            yield* webhooks.get(path.webhookId)
            const rows = yield* dbFailures(queue.attempts(path.webhookId, urlParams["page[size]"] ?? 10))
            return { data: rows.map(toWebhookAttemptResource) }
          })
        )
      )
      .handle("rotateWebhookSecret", ({ path, payload }) =>
        write(Effect.map(webhooks.rotateSecret(path.webhookId, payload.meta?.["expires-in-seconds"]), (made) => ({ data: toWebhookWithSecretResource(made.webhook, made.secrets) })))
      )
  })
)
