/**
 * Persona's request conventions, for every endpoint under /api/v1 at once (the handlers only
 * ever see kebab-case and answer kebab-case with every attribute):
 *
 * - **Persona-Version**: the version asked for must be one acct implements (unknown, malformed
 *   or empty → 400 naming the supported versions); every answer says the one used
 *   (`Persona-Version: 2025-12-08`, set in edge.ts beside the Request-Id).
 * - **Key-Inflection** (`kebab` default, `camel`, `snake`): a request body's keys are turned into
 *   kebab-case before it is decoded, and a JSON answer's keys into the caller's inflection; keys
 *   inside `fields` and `parameters` never are (inflection.ts). Anything else → 400.
 * - **Sparse fieldsets** (`fields[account]=tags,account-status`): an answer's resources of that
 *   type keep only those attributes. The names themselves are checked by the endpoint's query
 *   schema (api.ts).
 *
 * It runs inside the body reader (so it rewrites the body read there) and outside idempotency
 * (so a replay is stored once, in kebab-case, and answered in the inflection of the repeat).
 */
import { inflectKey, inflectKeys, type KeyInflection, parseKeyInflection, PERSONA_VERSIONS } from "@acct/api"
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { refusal } from "./error-body.js"
import { withBody } from "./request-body.js"

export const isPersonaPath = (url: string) => url.startsWith("/api/v1/") || url === "/api/v1" || url.startsWith("/api/v1?")

type Fieldsets = ReadonlyMap<string, ReadonlySet<string>>

/** `fields[type]=a,b` of a query, names in kebab-case. */
const fieldsetsOf = (url: string): Fieldsets => {
  const out = new Map<string, ReadonlySet<string>>()
  const question = url.indexOf("?")
  if (question < 0) return out
  for (const [key, value] of new URLSearchParams(url.slice(question + 1))) {
    const type = /^fields\[(.+)\]$/.exec(key)?.[1]
    if (type === undefined) continue
    out.set(inflectKey(type, "kebab"), new Set(value.split(",").map((name) => inflectKey(name.trim(), "kebab")).filter((name) => name !== "")))
  }
  return out
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** A resource with only the attributes its type's fieldset names. */
const sparse = (resource: unknown, fieldsets: Fieldsets): unknown => {
  if (!isRecord(resource) || typeof resource.type !== "string" || !isRecord(resource.attributes)) return resource
  const keep = fieldsets.get(resource.type)
  if (keep === undefined) return resource
  return { ...resource, attributes: Object.fromEntries(Object.entries(resource.attributes).filter(([name]) => keep.has(name))) }
}

/** A JSON:API document with sparse fieldsets applied to `data` and `included`. */
export const applyFieldsets = (document: unknown, fieldsets: Fieldsets): unknown => {
  if (fieldsets.size === 0 || !isRecord(document)) return document
  const each = (value: unknown) => (Array.isArray(value) ? value.map((r) => sparse(r, fieldsets)) : sparse(value, fieldsets))
  return { ...document, ...("data" in document ? { data: each(document.data) } : {}), ...("included" in document ? { included: each(document.included) } : {}) }
}

/** A JSON answer rewritten for the caller: sparse fieldsets, then key inflection. */
const reshape = (response: HttpServerResponse.HttpServerResponse, inflection: KeyInflection, fieldsets: Fieldsets) => {
  const body = response.body
  if (body._tag !== "Uint8Array" || !body.contentType.startsWith("application/json") || response.status >= 400) return response
  const document = applyFieldsets(JSON.parse(new TextDecoder().decode(body.body)), fieldsets)
  return HttpServerResponse.unsafeJson(inflection === "kebab" ? document : inflectKeys(document, inflection), { status: response.status, headers: response.headers })
}

/**
 * How a Persona request's decode issues name keys: those of its JSON body (an issue whose first
 * key is one of the body's, which reached the decoder in kebab-case) in the request's
 * Key-Inflection, as its sender spelled them; everything else as the spec does.
 */
export const decodeIssueKeyNames = (request: HttpServerRequest.HttpServerRequest) => {
  const inflection = parseKeyInflection(request.headers["key-inflection"]) ?? "kebab"
  if (inflection === "kebab") return Effect.succeed(() => (key: string) => key)
  return Effect.map(Effect.orElseSucceed(request.text, () => ""), (text) => {
    let roots: ReadonlySet<string> = new Set()
    try {
      const body: unknown = JSON.parse(text)
      if (typeof body === "object" && body !== null && !Array.isArray(body)) roots = new Set(Object.keys(body))
    } catch {
      // Not JSON: no body keys to name.
    }
    const inflected = (key: string) => inflectKey(key, inflection)
    return (issue: { readonly path: ReadonlyArray<PropertyKey> }) => (roots.has(String(issue.path[0])) ? inflected : (key: string) => key)
  })
}

const BODY_METHODS = new Set(["POST", "PATCH", "PUT", "DELETE"])

export const personaConventions = <E, R>(
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest> =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    if (!isPersonaPath(request.url)) return app
    const refuse = (detail: string) => refusal(request, 400, "Bad Request", detail)
    const version = request.headers["persona-version"]
    if (version !== undefined && !(PERSONA_VERSIONS as ReadonlyArray<string>).includes(version.trim())) {
      return refuse(`Persona-Version: acct supports ${PERSONA_VERSIONS.join(", ")}; got ${JSON.stringify(version.slice(0, 40))}`)
    }
    const header = request.headers["key-inflection"]
    const inflection = parseKeyInflection(header)
    if (inflection === undefined) return refuse(`Key-Inflection: expected kebab, camel or snake; got ${JSON.stringify((header ?? "").slice(0, 40))}`)
    const fieldsets = fieldsetsOf(request.url)
    // (The Persona-Version answer header is set with the Request-Id, in edge.ts, on every answer.)
    const answer = inflection === "kebab" && fieldsets.size === 0 ? app : Effect.map(app, (response) => reshape(response, inflection, fieldsets))
    if (inflection === "kebab" || !BODY_METHODS.has(request.method)) return answer
    // A body the reader found not to be JSON is left for the decoder to refuse in its own words.
    return Effect.flatMap(Effect.orDie(request.text), (text) => {
      let parsed: unknown
      try {
        parsed = text === "" ? undefined : JSON.parse(text)
      } catch {
        return answer
      }
      const kebab = inflectKeys(parsed, "kebab")
      return kebab === parsed ? answer : Effect.provideService(answer, HttpServerRequest.HttpServerRequest, withBody(request, JSON.stringify(kebab)))
    })
  })
