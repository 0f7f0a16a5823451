/**
 * A fuzzer from the wire schemas, over both surfaces (Persona under /api/v1, SoftwareOne under
 * /v1/accounts/accounts): every endpoint, with path parameters that exist or not, query
 * parameters and bodies generated from the endpoint's own schemas, then broken (a field
 * replaced by any JSON value, any JSON at all, a non-JSON text), and every place of a few valid
 * bodies given a value of each JSON kind in turn. Every answer must come within
 * a few seconds, be below 500, carry a Request-Id and a JSON error body whose details are
 * written for people — never Schema's notation (`Expected { readonly … }, actual …`), nor a
 * schema's documentation said as what was expected.
 */
import { AcctApi } from "@acct/api"
import { HttpApi, type HttpApiEndpoint } from "@effect/platform"
import { Arbitrary, FastCheck as fc, Option, Schema, SchemaAST } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
let ids: Record<string, string> = {}
beforeAll(async () => {
  server = await startServer()
  const account = (await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0]
  const action = (await server.call("GET", "/api/v1/account-actions")).json.data[0]
  ids = { account: account.id, accountType: account.relationships?.["account-type"]?.data?.id ?? "acttp_x", action: action?.id ?? "accac_x" }
})
afterAll(() => server.close())

interface Target {
  readonly method: string
  readonly path: string
  readonly payload: Option.Option<Schema.Schema.Any>
  readonly urlParams: Option.Option<Schema.Schema.Any>
}

const targets: Array<Target> = []
HttpApi.reflect(AcctApi, {
  onGroup: () => undefined,
  onEndpoint: ({ endpoint }) => {
    const { method, path, payloadSchema, urlParamsSchema } = endpoint as unknown as HttpApiEndpoint.HttpApiEndpoint.AnyWithProps
    targets.push({ method, path, payload: payloadSchema as Option.Option<Schema.Schema.Any>, urlParams: urlParamsSchema as Option.Option<Schema.Schema.Any> })
  }
})

/** Values a generated encoded schema might produce, as an arbitrary; any JSON if it cannot. */
const encodedArbitrary = (schema: Option.Option<Schema.Schema.Any>): fc.Arbitrary<unknown> => {
  if (Option.isNone(schema)) return fc.constant(undefined)
  try {
    return Arbitrary.make(Schema.encodedSchema(schema.value)) as fc.Arbitrary<unknown>
  } catch {
    return fc.jsonValue()
  }
}

/** Replaces one value somewhere inside `value` by `junk`. */
const breakOne = (value: unknown, junk: unknown, pick: number): unknown => {
  if (value === null || typeof value !== "object") return junk
  const keys = Object.keys(value)
  if (keys.length === 0) return junk
  const key = keys[pick % keys.length]!
  const copy: Record<string, unknown> = Array.isArray(value) ? [...value] as never : { ...(value as Record<string, unknown>) }
  copy[key] = pick % 3 === 0 ? junk : breakOne((value as Record<string, unknown>)[key], junk, Math.floor(pick / 3))
  return copy
}

const pathValue = fc.oneof(
  fc.constantFrom("real"),
  fc.constantFrom("act_000000000000000000000000", "act_1", "%00", "..", "x".repeat(300), "acttp_000000000000000000000000", "wfr_000000000000000000000000"),
  fc.string({ maxLength: 40 })
)

const body = (target: Target) =>
  fc.oneof(
    encodedArbitrary(target.payload).map((value) => ({ text: JSON.stringify(value) ?? "", type: "application/json" })),
    fc.tuple(encodedArbitrary(target.payload), fc.jsonValue(), fc.nat()).map(([value, junk, pick]) => ({ text: JSON.stringify(breakOne(value, junk, pick)) ?? "null", type: "application/json" })),
    fc.jsonValue().map((value) => ({ text: JSON.stringify(value), type: "application/vnd.api+json" })),
    fc.string({ maxLength: 200 }).map((text) => ({ text, type: "application/json" }))
  )

const query = (target: Target) =>
  encodedArbitrary(target.urlParams).chain((params) =>
    fc.oneof(
      fc.constant(params),
      fc.tuple(fc.jsonValue(), fc.nat()).map(([junk, pick]) => breakOne(params ?? {}, junk, pick))
    )
  )

const toQuery = (params: unknown) => {
  if (params === null || typeof params !== "object") return ""
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, typeof one === "string" ? one : JSON.stringify(one))
  }
  const text = search.toString()
  return text === "" ? "" : `?${text}`
}

const fill = (path: string, values: ReadonlyArray<string>) => {
  let i = 0
  return path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = values[i++] ?? "real"
    if (value !== "real") return encodeURIComponent(value)
    if (/type/i.test(name)) return ids.accountType!
    if (/action/i.test(name)) return ids.action!
    if (/run/i.test(name)) return "wfr_000000000000000000000000"
    return ids.account!
  })
}

/**
 * The description annotations of every request schema: documentation for the OpenAPI, which
 * Schema would also say as what was expected ("expected reference-id: update the account …").
 */
const descriptions = new Set<string>()
const collectDescriptions = (ast: SchemaAST.AST, seen = new Set<SchemaAST.AST>()): void => {
  if (seen.has(ast)) return
  seen.add(ast)
  Option.map(SchemaAST.getDescriptionAnnotation(ast), (text) => descriptions.add(text))
  switch (ast._tag) {
    case "TypeLiteral":
      for (const p of ast.propertySignatures) collectDescriptions(p.type, seen)
      for (const i of ast.indexSignatures) collectDescriptions(i.type, seen)
      return
    case "Union":
      return ast.types.forEach((t) => collectDescriptions(t, seen))
    case "TupleType":
      return [...ast.elements.map((e) => e.type), ...ast.rest.map((r) => r.type)].forEach((t) => collectDescriptions(t, seen))
    case "Refinement":
      return collectDescriptions(ast.from, seen)
    case "Transformation":
      collectDescriptions(ast.from, seen)
      return collectDescriptions(ast.to, seen)
    case "Suspend":
      return collectDescriptions(ast.f(), seen)
  }
}
for (const target of targets) for (const schema of [target.payload, target.urlParams]) Option.map(schema, (s) => collectDescriptions(s.ast))
// Schema's own descriptions of its built-in types ("a string", "an integer") are words already.
const documentation = [...descriptions].filter((text) => text.length > 30)

/** Schema's notation for types, which must never reach a person. */
const SCHEMA_NOTATION = /readonly |ReadonlyArray<|\{ readonly|Expected .*, actual |\bStruct\b|\bUnion\b|<declaration schema>|<suspended schema>| <-> |Brand<|\bNullOr\b/

const probe = async (target: Target, url: string, options: Parameters<typeof server.call>[2]) => {
  const started = Date.now()
  const answer = await server.call(target.method, url, options)
  const where = `${target.method} ${url} ${JSON.stringify(options?.raw ?? "").slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 300)}`
  expect(Date.now() - started, `${where}: answered within 5 s`).toBeLessThan(5000)
  expect(answer.status, where).toBeLessThan(500)
  expect(answer.headers.get("request-id"), where).toMatch(/^req_/)
  if (answer.status >= 400) {
    expect(answer.json, `${where}: a JSON error body`).toBeTypeOf("object")
    expect(answer.text, where).not.toMatch(SCHEMA_NOTATION)
    for (const text of documentation) expect(answer.text, `${where}: a schema's documentation said as what was expected`).not.toContain(text)
  }
}

/** Every place inside `value` (objects' keys and arrays' items, at any depth), as key paths. */
const placesIn = (value: unknown, at: ReadonlyArray<string> = []): Array<ReadonlyArray<string>> => {
  if (value === null || typeof value !== "object") return []
  return Object.entries(value).flatMap(([key, inner]) => [[...at, key], ...placesIn(inner, [...at, key])])
}

/** `value` with the value at `path` replaced by `junk`. */
const replaceAt = (value: unknown, path: ReadonlyArray<string>, junk: unknown): unknown => {
  if (path.length === 0) return junk
  const [key, ...rest] = path
  const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as never) : { ...(value as Record<string, unknown>) }
  // defineProperty: a generated `__proto__` key stays a key (an assignment would set the prototype).
  Object.defineProperty(copy, key!, { value: replaceAt((value as Record<string, unknown>)[key!], rest, junk), enumerable: true, writable: true, configurable: true })
  return copy
}

/** A value of every JSON kind: at each place, all but the kind that belongs there are wrong. */
const EVERY_KIND: ReadonlyArray<unknown> = ["x", "", 7, -1.5, true, null, [], ["x"], [1], {}, { x: 1 }]

/** A few valid bodies for the endpoint, from its schema (the same ones on every run). */
const sampleBodies = (target: Target) => {
  if (Option.isNone(target.payload)) return []
  // The three fullest of twenty (most places): optional keys a small sample leaves out (a
  // webhook update's settings, a create's meta) are then probed too.
  const drawn = fc.sample(encodedArbitrary(target.payload), { numRuns: 20, seed: 20261207 })
  return drawn.map((body) => [placesIn(body).length, body] as const).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([, body]) => body)
}

// SoftwareOne's surface takes no bodies (its operations are the path and the key).
describe("every field of the Persona surface's bodies given a value of the wrong kind", () => {
  // The random fuzzer above may never put a string where a list belongs (it took a user to find
  // that "tags": "x" answered "expected one of ReadonlyArray<string>, null"); this goes through
  // every place of a few valid bodies, with a value of each JSON kind.
  it("answers each below 500, in plain words", async () => {
    const surface = targets.filter((t) => t.path.startsWith("/api/v1") && Option.isSome(t.payload))
    let probes = 0
    for (const target of surface) {
      for (const valid of sampleBodies(target)) {
        for (const place of [[], ...placesIn(valid)]) {
          for (const junk of EVERY_KIND) {
            probes++
            await probe(target, fill(target.path, []), { raw: JSON.stringify(replaceAt(valid, place, junk)), headers: { "content-type": "application/json" } })
          }
        }
      }
    }
    expect(probes).toBeGreaterThan(100)
  }, 300_000)
})

describe.each([
  ["Persona", "/api/v1"],
  ["SoftwareOne", "/v1/accounts/accounts"]
])("fuzzing the %s surface from its wire schemas", (_name, prefix) => {
  it("answers everything below 500, quickly, with a Request-Id and a JSON error body in plain words", async () => {
    const surface = targets.filter((t) => t.path.startsWith(prefix))
    expect(surface.length).toBeGreaterThan(prefix === "/api/v1" ? 15 : 4)
    for (const target of surface) {
      const takesBody = target.method !== "GET" && target.method !== "HEAD"
      await fc.assert(
        fc.asyncProperty(fc.array(pathValue, { minLength: 2, maxLength: 2 }), query(target), body(target), async (path, params, payload) => {
          const url = `${fill(target.path, path)}${toQuery(params)}`
          await probe(target, url, takesBody ? { raw: payload.text, headers: { "content-type": payload.type } } : {})
        }),
        { numRuns: 25, seed: 20261201 }
      )
    }
  }, 120_000)
})
