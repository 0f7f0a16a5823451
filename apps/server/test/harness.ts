/**
 * A real acct server on a loopback port with its own SQLite file, plus helpers: API keys with
 * chosen scopes, fetch with a key, and validators for Persona's OpenAPI response schemas.
 */
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
import { appLayer } from "../src/app.js"

export const startServer = async (
  options: {
    readonly database?: string
    readonly adminKey?: string
    readonly rateLimit?: number
    readonly maxBodyBytes?: number
    readonly maxImportBytes?: number
    readonly profile?: string
    /** Receives every log entry (by default: warnings and worse, to the console). */
    readonly logger?: Logger.Logger<unknown, void>
  } = {}
) => {
  const database = options.database ?? path.join(mkdtempSync(path.join(tmpdir(), "acct-server-")), "acct.db")
  const app = appLayer({ port: 0, host: "127.0.0.1", profile: Option.fromNullable(options.profile), database, bootstrapKey: Option.none(), seedDemo: true, maxBodyBytes: options.maxBodyBytes ?? 64 * 1024, maxImportBytes: options.maxImportBytes ?? 64 * 1024 * 1024, rateLimit: options.rateLimit ?? 10_000, idempotencyStaleSeconds: 30, shutdownGraceSeconds: 10, shutdownReadinessDelaySeconds: 0, dbPoolSize: 10, dbStatementTimeoutMs: 5000 })
  const layer = app.pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(options.logger ? Logger.replace(Logger.defaultLogger, options.logger) : Logger.minimumLogLevel(LogLevel.Warning))
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
  return { base, database, runtime, key, admin, call, close: () => runtime.dispose() }
}

const specPath = new URL("../../../specs/persona-api-2025-12-08.openapi.json", import.meta.url)
const spec = JSON.parse(readFileSync(specPath, "utf8"))

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true })
addFormats.default(ajv)
ajv.addSchema(spec, "persona")

const pointer = (...parts: ReadonlyArray<string>) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")

/**
 * Validates a body against Persona's response schema for `method path` and `status`
 * (the spec's own path template, e.g. "/accounts/{account-id}/run-action").
 */
export const validatePersona = (method: string, specPathTemplate: string, status: number, body: unknown): string | null => {
  const responses = spec.paths[specPathTemplate]?.[method.toLowerCase()]?.responses
  if (!responses) throw new Error(`${method} ${specPathTemplate} is not in the Persona spec`)
  const response = responses[String(status)]
  if (!response) return `status ${status} is not declared for ${method} ${specPathTemplate}`
  const ref: string = response.$ref ?? `#/${pointer("paths", specPathTemplate, method.toLowerCase(), "responses", String(status))}`
  const validate = ajv.getSchema(`persona${ref}/content/application~1json/schema`)
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
