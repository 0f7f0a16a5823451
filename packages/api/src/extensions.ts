/**
 * What the edge adds to every endpoint, beyond what each endpoint declares, written into acct's
 * OpenAPI document so a generated client knows it too:
 *
 * - Persona's convention headers (Key-Inflection, Persona-Version) on every /api/v1 operation;
 * - acct's own refusals, in each surface's error format: 431 (request line and headers over
 *   16 KB) everywhere, 413 (body over the limit) and 415 (a body that is not JSON) wherever a
 *   body is read;
 * - the SoftwareOne surface again under /public/v1/accounts/accounts, the prefix SoftwareOne's
 *   current documentation uses (the edge serves both);
 * - the webhook deliveries of acct's own event names (OpenAPI's `webhooks`): Persona's names are
 *   delivered as Persona's spec documents them, these are acct's additions.
 */
import type { OpenApi } from "@effect/platform"
import { KEY_INFLECTIONS } from "./persona/inflection.js"

/** The Persona API versions acct implements: the one of the vendored spec. */
export const PERSONA_VERSIONS = ["2025-12-08"] as const

export const SOFTWAREONE_PREFIX = "/v1/accounts/accounts"
export const SOFTWAREONE_PUBLIC_PREFIX = "/public/v1/accounts/accounts"

type Spec = OpenApi.OpenAPISpec
type Operation = Spec["paths"][string][OpenApi.OpenAPISpecMethodName] & object

const personaError = {
  type: "object",
  required: ["errors"],
  properties: { errors: { type: "array", items: { type: "object", required: ["title"], properties: { title: { type: "string" }, details: { type: "string" } } } } }
}
const problem = {
  type: "object",
  required: ["type", "title", "status", "detail"],
  properties: { type: { type: "string" }, title: { type: "string" }, status: { type: "number" }, detail: { type: "string" }, traceId: { type: "string" } }
}

const refusals = (persona: boolean, readsBody: boolean) => {
  const answer = (description: string) =>
    persona ? { description, content: { "application/json": { schema: personaError } } } : { description, content: { "application/problem+json": { schema: problem } } }
  return {
    ...(readsBody
      ? {
          "413": answer("The request body is larger than the service accepts (acct extension; ACCT_MAX_BODY_BYTES)."),
          "415": answer("The request body is not JSON (acct extension).")
        }
      : {}),
    "431": answer("The request line and headers together exceed 16 KB (acct extension).")
  }
}

const conventionHeaders = [
  {
    name: "Key-Inflection",
    in: "header",
    required: false,
    description: "Casing of the keys in the request and the response (keys inside fields are never inflected). Default kebab; another value is a 400.",
    schema: { type: "string", enum: [...KEY_INFLECTIONS] }
  },
  {
    name: "Persona-Version",
    in: "header",
    required: false,
    description: "The API version; the response's Persona-Version header says the one used. Another value is a 400 naming the supported ones.",
    schema: { type: "string", enum: [...PERSONA_VERSIONS] }
  }
]

const BODY_METHODS = new Set(["post", "patch", "put", "delete"])

/** The OpenAPI document with the edge's additions (an OpenApi.Transform for AcctApi). */
export const documentEdge = (document: Record<string, unknown>): Record<string, unknown> => {
  const spec = document as unknown as Spec
  const paths: Record<string, Record<string, Operation>> = {}
  for (const [path, item] of Object.entries(spec.paths as Record<string, Record<string, Operation>>)) {
    const persona = path.startsWith("/api/v1/")
    const softwareOne = path.startsWith(`${SOFTWAREONE_PREFIX}`)
    const operations: Record<string, Operation> = {}
    for (const [method, operation] of Object.entries(item)) {
      if (!persona && !softwareOne) {
        operations[method] = operation
        continue
      }
      operations[method] = {
        ...operation,
        ...(persona ? { parameters: [...(operation.parameters ?? []), ...conventionHeaders] } : {}),
        responses: { ...operation.responses, ...refusals(persona, persona && BODY_METHODS.has(method)) }
      } as Operation
    }
    paths[path] = operations
    if (softwareOne) {
      paths[`/public${path}`] = Object.fromEntries(
        Object.entries(operations).map(([method, operation]) => [method, { ...operation, operationId: `${operation.operationId}Public` } as Operation])
      )
    }
  }
  return { ...spec, paths, webhooks: ACCT_WEBHOOKS }
}

/** The delivery of an acct event: Persona's event envelope, with the payload and context given. */
const eventDelivery = (name: { readonly const: string } | { readonly pattern: string }, payload: Record<string, unknown>, context: Record<string, unknown>, summary: string, description: string) => ({
  post: {
    summary,
    description: `${description} Signed and sent like Persona's events: Persona-Signature, webhook-id / webhook-timestamp / webhook-signature (Standard Webhooks), Persona-Webhook-Attempts-Made / -Left / -First-Attempted-At. (acct extension)`,
    requestBody: {
      content: {
        "application/json": {
          schema: {
            type: "object",
            required: ["data"],
            properties: {
              data: {
                type: "object",
                required: ["type", "id", "attributes"],
                properties: {
                  type: { type: "string", const: "event" },
                  id: { type: "string", description: "evt_…, the same as the webhook-id header, stable across retries and replays." },
                  attributes: {
                    type: "object",
                    required: ["name", "created-at", "payload", "context"],
                    properties: {
                      name: { type: "string", ...name },
                      "created-at": { type: "string", format: "date-time" },
                      payload: { type: "object", required: ["data"], properties: { data: payload } },
                      context: { type: "object", additionalProperties: true, properties: context }
                    }
                  }
                }
              }
            }
          }
        }
      }
    },
    responses: { "200": { description: "Any 2xx delivers; 410 disables the webhook; anything else is retried on ACCT_WEBHOOK_RETRY_SCHEDULE." } }
  }
})

const resource = (type: string, prefix: string) => ({
  type: "object",
  required: ["type", "id", "attributes"],
  properties: { type: { type: "string", const: type }, id: { type: "string", pattern: `^${prefix}_` }, attributes: { type: "object", additionalProperties: true } }
})

const who = {
  actor: { type: "object", description: "Who made the change (kind, id, name)." },
  channel: { type: "string", description: "Through which app: http, cli, slack, library." },
  "request-id": { type: "string" }
}

/**
 * acct's own event names, beside Persona's (which keep Persona's webhook schemas): one a webhook
 * endpoint's own, and those a catalog's emit-event steps name.
 */
export const ACCT_WEBHOOKS = {
  "webhook.disabled": eventDelivery(
    { const: "webhook.disabled" },
    resource("webhook", "wbh"),
    { ...who, data: { type: "object", properties: { reason: { type: "string", description: "410 Gone from the receiver, or every attempt failing for 5 days." } } } },
    "A webhook was disabled by acct",
    "acct disabled a webhook by itself: its receiver answered 410 Gone, or every attempt failed for 5 days. The payload is the webhook (Persona's webhook resource, without its secret)."
  ),
  "{catalog event}": eventDelivery(
    { pattern: "^[a-z0-9][a-z0-9_-]*(?:/[a-z0-9_-]+)?\\.[a-z0-9][a-z0-9_.-]*$" },
    resource("account", "act"),
    { ...who, "workflow-run-id": { type: "string" }, data: { type: "object", description: "What the emit-event step carries, in the catalog's own keys.", additionalProperties: true } },
    "An event a catalog's action emits",
    "An account action's emit-event step, under the name the catalog gives it (e.g. account.suspended): the account as it was after the run, and the step's data."
  )
}
