/**
 * What the edge adds to every endpoint, beyond what each endpoint declares, written into acct's
 * OpenAPI document so a generated client knows it too:
 *
 * - Persona's convention headers (Key-Inflection, Persona-Version) on every /api/v1 operation;
 * - acct's own refusals, in each surface's error format: 431 (request line and headers over
 *   16 KB) everywhere, 413 (body over the limit) and 415 (a body that is not JSON) wherever a
 *   body is read;
 * - the SoftwareOne surface again under /public/v1/accounts/accounts, the prefix SoftwareOne's
 *   current documentation uses (the edge serves both).
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
  return { ...spec, paths }
}
