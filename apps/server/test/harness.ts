/**
 * A real acct server on a loopback port with its own SQLite file, plus helpers: API keys with
 * chosen scopes, fetch with a key, and validators for Persona's OpenAPI response schemas.
 */
import { inflectKey, type KeyInflection } from "@acct/api"
import { ApiKeys, type Scope } from "@acct/core"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Option } from "effect"
import { readFileSync, mkdtempSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import path from "node:path"
import { Ajv2020 } from "ajv/dist/2020.js"
import { Ajv } from "ajv"
import addFormats from "ajv-formats"
import { expect } from "vitest"
import { appLayer } from "../src/app.js"
import { AccessLog, formatLine } from "../src/log.js"

export const startServer = async (
  options: {
    readonly database?: string
    readonly adminKey?: string
    readonly rateLimit?: number
    readonly maxBodyBytes?: number
    readonly maxImportBytes?: number
    readonly profile?: string
    /** Receives every log line, the access log's included, as JSON (by default: warnings and worse, to the console). */
    readonly logLines?: (line: Record<string, unknown>) => void
  } = {}
) => {
  const database = options.database ?? path.join(mkdtempSync(path.join(tmpdir(), "acct-server-")), "acct.db")
  const app = appLayer({ port: 0, host: "127.0.0.1", profile: Option.fromNullable(options.profile), database, bootstrapKey: Option.none(), seedDemo: true, maxBodyBytes: options.maxBodyBytes ?? 64 * 1024, maxImportBytes: options.maxImportBytes ?? 64 * 1024 * 1024, rateLimit: options.rateLimit ?? 10_000, shutdownGraceSeconds: 10, shutdownReadinessDelaySeconds: 0, dbPoolSize: 10, dbStatementTimeoutMs: 5000, dbConnectRetrySeconds: 0 })
  const receive = options.logLines
  // Both kinds of line, the logger's and the access log's, to `logLines`; else warnings and worse.
  const logging = receive
    ? { access: AccessLog.lines((line) => receive(JSON.parse(line))), logger: Logger.replace(Logger.defaultLogger, Logger.make((entry) => receive(JSON.parse(formatLine(entry))))) }
    : { access: AccessLog.stdout, logger: Logger.minimumLogLevel(LogLevel.Warning) }
  const layer = app.pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provide(logging.access),
    Layer.provideMerge(logging.logger)
  )
  const runtime = ManagedRuntime.make(layer)
  const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
  if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
  const base = `http://127.0.0.1:${address.port}`
  const key = (scopes: ReadonlyArray<Scope>, name = scopes.join("+")) =>
    runtime.runPromise(Effect.flatMap(ApiKeys, (k) => k.create({ name, scopes })))
  const admin = options.adminKey ?? (await key(["admin"])).secret
  const call = async (method: string, url: string, options: { key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...options.headers }
    const token = options.key === undefined ? admin : options.key
    if (token !== null) headers.authorization = `Bearer ${token}`
    let body: string | undefined = options.raw
    if (options.body !== undefined) {
      body = JSON.stringify(options.body)
      headers["content-type"] ??= "application/json"
    }
    const response = await fetch(`${base}${url}`, { method, headers, ...(body !== undefined ? { body } : {}) })
    const text = await response.text()
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a response body, asserted field by field
    let json: any = undefined
    try {
      json = text ? JSON.parse(text) : undefined
    } catch {
      json = undefined
    }
    return { status: response.status, headers: response.headers, text, json }
  }
  /** The demo data's ids the tests use: Jane Doe (abc-123), the User type, the Set status action. */
  const demo = async () => {
    const found = await call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")
    const actions = (await call("GET", "/api/v1/account-actions")).json.data as ReadonlyArray<{ id: string; attributes: { name: string } }>
    return {
      jane: found.json.data[0].id as string,
      typeId: found.json.data[0].relationships["account-type"].data.id as string,
      setStatus: actions.find((a) => a.attributes.name === "Set status")!.id
    }
  }
  return { base, database, runtime, key, admin, call, demo, close: () => runtime.dispose() }
}

export type TestServer = Awaited<ReturnType<typeof startServer>>

/**
 * `conforms(method, url, template, status, options)` on the server `current()` answers (a test
 * file starts its own in beforeAll): expects `status`, validates the body against Persona's
 * schema for that operation (the spec's path template), and answers the body.
 */
export const conformsOn =
  (current: () => TestServer) =>
  async (method: string, url: string, template: string, status: number, options: Parameters<TestServer["call"]>[2] = {}) => {
    const response = await current().call(method, url, options)
    expect(response.status, response.text).toBe(status)
    expect(validatePersona(method, template, status, response.json)).toBeNull()
    return response.json
  }

const specPath = new URL("../../../specs/persona-api-2025-12-08.openapi.json", import.meta.url)
const spec = JSON.parse(readFileSync(specPath, "utf8"))

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
addFormats.default(ajv)
ajv.addSchema(spec, "persona")

/**
 * Persona's spec with its property names in another Key-Inflection, as Persona documents it
 * (keys under `fields` are not inflected): the same schemas, validating camel or snake bodies.
 */
const inflectSpec = (node: unknown, inflection: KeyInflection): unknown => {
  if (Array.isArray(node)) return node.map((item) => inflectSpec(item, inflection))
  if (typeof node !== "object" || node === null) return node
  const out: Record<string, unknown> = {}
  const object = node as Record<string, unknown>
  for (const [key, value] of Object.entries(object)) {
    if (key === "properties" && typeof value === "object" && value !== null) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, schema]) => [inflectKey(name, inflection), name === "fields" ? schema : inflectSpec(schema, inflection)]))
    } else if (key === "required" && Array.isArray(value) && "properties" in object) {
      out[key] = value.map((name: string) => inflectKey(name, inflection))
    } else out[key] = inflectSpec(value, inflection)
  }
  return out
}
for (const inflection of ["camel", "snake"] as const) ajv.addSchema(inflectSpec(spec, inflection) as object, `persona-${inflection}`)

const pointer = (...parts: ReadonlyArray<string>) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")

/**
 * Validates a body against Persona's response schema for `method path` and `status`
 * (the spec's own path template, e.g. "/accounts/{account-id}/run-action").
 */
export const validatePersona = (method: string, specPathTemplate: string, status: number, body: unknown, inflection: KeyInflection = "kebab"): string | null => {
  const responses = spec.paths[specPathTemplate]?.[method.toLowerCase()]?.responses
  if (!responses) throw new Error(`${method} ${specPathTemplate} is not in the Persona spec`)
  const response = responses[String(status)]
  if (!response) return `status ${status} is not declared for ${method} ${specPathTemplate}`
  const ref: string = response.$ref ?? `#/${pointer("paths", specPathTemplate, method.toLowerCase(), "responses", String(status))}`
  const validate = ajv.getSchema(`${inflection === "kebab" ? "persona" : `persona-${inflection}`}${ref}/content/application~1json/schema`)
  if (!validate) throw new Error(`no schema at ${ref}`)
  return validate(body) ? null : ajv.errorsText(validate.errors, { separator: "\n" })
}

/**
 * Validates a body against the request schema of Persona's webhook for event `name` (the
 * spec's `webhooks` section, e.g. "account.tag-added"); undefined when the spec has none.
 */
export const validatePersonaWebhook = (name: string, body: unknown): string | null | undefined => {
  if (!spec.webhooks[name]) return undefined
  const validate = ajv.getSchema(`persona#/${pointer("webhooks", name, "post", "requestBody", "content", "application/json", "schema")}`)
  if (!validate) throw new Error(`no schema for webhook ${name}`)
  return validate(body) ? null : ajv.errorsText(validate.errors, { separator: "\n" })
}

const softwareOneSpec = JSON.parse(readFileSync(new URL("../../../specs/softwareone-marketplace-accounts.openapi.json", import.meta.url), "utf8"))
// OpenAPI 3.0 schemas are draft-07-ish with `nullable`, which Ajv's default class understands.
const ajv07 = new Ajv({ strict: false, allErrors: true })
addFormats.default(ajv07)
ajv07.addSchema(softwareOneSpec, "softwareone")

/** Validates a body against a component schema of SoftwareOne's spec, e.g. "AccountQueryModel". */
export const validateSoftwareOne = (component: string, body: unknown): string | null => {
  const validate = ajv07.getSchema(`softwareone#/components/schemas/${component}`)
  if (!validate) throw new Error(`no component ${component}`)
  return validate(body) ? null : ajv07.errorsText(validate.errors, { separator: "\n" })
}

/** Validates a request body against Persona's request schema for `method path` (to check that a test sends what the spec allows). */
export const validatePersonaRequest = (method: string, specPathTemplate: string, body: unknown): string | null => {
  const validate = ajv.getSchema(`persona#/${pointer("paths", specPathTemplate, method.toLowerCase(), "requestBody", "content", "application/json", "schema")}`)
  if (!validate) throw new Error(`no request schema for ${method} ${specPathTemplate}`)
  return validate(body) ? null : ajv.errorsText(validate.errors, { separator: "\n" })
}

/** The request examples of Persona's spec for `method path`, by name. */
export const personaRequestExamples = (method: string, specPathTemplate: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(spec.paths[specPathTemplate][method.toLowerCase()].requestBody.content["application/json"].examples as Record<string, { value: unknown }>).map(([name, e]) => [name, e.value]))
