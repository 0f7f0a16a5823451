/**
 * The Persona and SoftwareOne providers against real loopback servers speaking those wire
 * formats (acct's own compatible surfaces), directly and through a fault-injecting proxy. The
 * request bodies the Persona provider sends are validated against Persona's spec.
 */
import { Accounts, lifecycleStateOf, Principal, RetryPolicy } from "@acct/core"
import { FetchHttpClient } from "@effect/platform"
import { Ajv2020 } from "ajv/dist/2020.js"
import addFormats from "ajv-formats"
import { Effect, Layer } from "effect"
import { readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AccountsHttp, PersonaAccounts, type PersonaOptions, SoftwareOneAccounts } from "../src/index.js"
import { type Fault, type Seen, startAcct, startProxy } from "./harness.js"

let acct: Awaited<ReturnType<typeof startAcct>>
let setStatusId = ""
beforeAll(async () => {
  acct = await startAcct()
  const action = await Effect.runPromise(
    Effect.flatMap(Accounts, (a) => a.getAction("Set status")).pipe(Effect.provide(AccountsHttp.layerFetch({ baseUrl: acct.url, apiKey: acct.apiKey })))
  )
  setStatusId = action.id
})
afterAll(() => acct.close())

const inv = { principal: Principal.make({ actor: { kind: "api-key", id: "t", name: "t" }, scopes: [] }), channel: "library" as const }
const fastRetry = RetryPolicy.layer({ maxAttempts: 4, baseDelay: "10 millis" })

const run = <A>(layer: Layer.Layer<Accounts>, use: (a: Accounts["Type"]) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(Effect.flatMap(Accounts, use).pipe(Effect.either, Effect.provide(layer)))

const persona = (baseUrl: string, options: Partial<PersonaOptions> = {}) =>
  PersonaAccounts.layer({
    baseUrl: `${baseUrl}/api/v1`,
    apiKey: acct.apiKey,
    timeout: "2 seconds",
    actions: { "Set status": setStatusId },
    lifecycle: { enable: { action: "Set status", parameters: { status: "deactivated" } } },
    ...options
  }).pipe(Layer.provide([FetchHttpClient.layer, fastRetry]))

const softwareOne = (baseUrl: string) => SoftwareOneAccounts.layer({ baseUrl, token: acct.apiKey, timeout: "2 seconds" }).pipe(Layer.provide([FetchHttpClient.layer, fastRetry]))

const through = async <A>(plan: (n: number, seen: Seen) => Fault, layerFor: (url: string) => Layer.Layer<Accounts>, use: (a: Accounts["Type"]) => Effect.Effect<A, unknown>) => {
  const proxy = await startProxy(acct.port, plan)
  try {
    return { result: await run(layerFor(proxy.url), use), seen: proxy.seen }
  } finally {
    await proxy.close()
  }
}

// Persona's request-body schemas, by method and path template.
const spec = JSON.parse(readFileSync(new URL("../../../specs/persona-api-2025-12-08.openapi.json", import.meta.url), "utf8"))
const ajv = new Ajv2020({ strict: false, allErrors: true })
addFormats.default(ajv)
ajv.addSchema(spec, "persona")
// Literal paths first: /accounts/search is not /accounts/{account-id}.
const templates = Object.keys(spec.paths)
  .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
  .map((template: string) => ({ template, pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`) }))
const validateRequest = (seen: Seen): string | null => {
  const path = new URL(seen.url, "http://x").pathname.replace(/^\/api\/v1/, "")
  const template = templates.find((t) => t.pattern.test(path))?.template
  if (!template) return `${seen.method} ${path} is not in Persona's spec`
  const operation = spec.paths[template][seen.method.toLowerCase()]
  if (!operation) return `${seen.method} ${template} is not in Persona's spec`
  if (!operation.requestBody) return seen.body === "" ? null : `${seen.method} ${template} takes no body`
  const pointer = ["paths", template, seen.method.toLowerCase(), "requestBody", "content", "application/json", "schema"].map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")
  const validate = ajv.getSchema(`persona#/${pointer}`)!
  return validate(JSON.parse(seen.body)) ? null : `${seen.method} ${template}: ${ajv.errorsText(validate.errors)}`
}

describe("Persona provider", () => {
  it("drives accounts with Persona's headers and request bodies, mapping lifecycle operations to account actions", async () => {
    const { result, seen } = await through(
      () => ({ kind: "pass" }),
      (url) => persona(url),
      (a) =>
        Effect.gen(function* () {
          const jane = yield* a.get({ referenceId: "abc-123" })
          const page = yield* a.list({ size: 2 })
          const next = yield* a.list({ size: 2, after: page.next! })
          const ran = yield* a.runAction({ referenceId: "abc-123" }, "Set status", { status: "activated" }, inv)
          const enabled = yield* a.lifecycle({ id: jane.id }, "enable", inv)
          const tagged = yield* a.addTag({ id: jane.id }, "vip", inv)
          const retagged = yield* a.setTags({ id: jane.id }, ["vip", "beta"], inv)
          const renamed = yield* a.update({ id: jane.id }, { fields: { email_address: { type: "email-address", value: "jane@example.com" } } }, inv)
          const unmapped = yield* Effect.flip(a.lifecycle({ id: jane.id }, "disable", inv))
          const unknownAction = yield* Effect.flip(a.runAction({ id: jane.id }, "Frobnicate", {}, inv))
          const missing = yield* Effect.flip(a.get({ id: "act_000000000000000000000000" as never }))
          const catalog = yield* Effect.flip(a.listTypes())
          return { jane, page, next, ran, enabled, tagged, retagged, renamed, unmapped, unknownAction, missing, catalog }
        })
    )
    if (result._tag === "Left") throw result.left
    const r = result.right
    expect(r.jane.referenceId).toBe("abc-123")
    expect(r.page.items).toHaveLength(2)
    expect(r.next.items[0]!.id).not.toBe(r.page.items[0]!.id)
    expect(r.ran.account.status).toBe("activated")
    expect(r.ran.run).toMatchObject({ actionName: "Set status", actionId: setStatusId, status: "succeeded", parameters: { status: "activated" } })
    expect(r.ran.run.id).toMatch(/^wfr_/)
    expect(r.enabled.account.status).toBe("deactivated")
    expect(r.tagged.tags).toContain("vip")
    expect([...r.retagged.tags].sort()).toEqual(["beta", "vip"])
    expect(r.renamed.fields.email_address?.value).toBe("jane@example.com")
    expect(r.unmapped).toMatchObject({ _tag: "InvalidRequest" })
    expect(r.unmapped.message).toContain("lifecycle.disable.action")
    expect(r.unknownAction.message).toContain('no account action named "Frobnicate"')
    expect(r.missing._tag).toBe("NotFound")
    expect(r.catalog.message).toContain("not available from Persona's API")

    for (const request of seen) {
      expect(request.headers["persona-version"]).toBe("2025-12-08")
      expect(request.headers["key-inflection"]).toBe("kebab")
      expect(request.headers.authorization).toBe(`Bearer ${acct.apiKey}`)
      if (request.method !== "GET") expect(request.headers["idempotency-key"]).toMatch(/^acct-/)
      expect(validateRequest(request)).toBeNull()
    }
  })

  it("relates, lists relations, searches and imports with Persona's request bodies", async () => {
    const csv = "reference_id,name_first,name_last\nprov-imp-1,Ada,Lovelace\nprov-imp-2,Alan,Turing"
    const { result, seen } = await through(
      () => ({ kind: "pass" }),
      (url) => persona(url),
      (a) =>
        Effect.gen(function* () {
          const wei = yield* a.get({ referenceId: "ghi-789" })
          const related = yield* a.addRelation({ referenceId: "def-456" }, { key: "household", target: { id: wei.id } }, inv)
          const relations = yield* a.listRelations({ id: related.id }, { key: "household" })
          const unrelated = yield* a.removeRelation({ id: related.id }, { key: "household", target: { id: wei.id } }, inv)
          const found = yield* a.search({ query: { attribute: "identifiers.reference_id", operator: "eq", value: "ghi-789" } })
          const started = yield* a.importAccounts({ csv }, inv)
          let importer = started
          for (let i = 0; i < 100 && importer.status === "pending"; i++) importer = yield* Effect.zipRight(Effect.sleep("50 millis"), a.getImporter(started.id))
          const typed = yield* Effect.flip(a.importAccounts({ csv, accountType: "User" }, inv))
          return { related, relations, unrelated, found, importer, typed }
        })
    )
    if (result._tag === "Left") throw result.left
    const r = result.right
    expect(r.relations.items.map((x) => x.referenceId)).toEqual(["ghi-789"])
    expect(r.unrelated.version).toBe(0)
    expect(r.found.items.map((x) => x.referenceId)).toEqual(["ghi-789"])
    expect(r.importer).toMatchObject({ status: "ready", successfulCount: 2 })
    // Persona imports into its own default type: naming one is refused before anything is sent.
    expect(r.typed).toMatchObject({ _tag: "InvalidRequest" })
    const paths = seen.map((request) => `${request.method} ${new URL(request.url, "http://x").pathname.replace(/act_[A-Za-z0-9]+|mprt_[A-Za-z0-9]+/g, "{id}")}`)
    expect(paths).toEqual(expect.arrayContaining(["POST /api/v1/accounts/{id}/add-relation", "GET /api/v1/accounts/{id}/relations", "POST /api/v1/accounts/{id}/remove-relation", "POST /api/v1/accounts/search", "POST /api/v1/importer/accounts", "GET /api/v1/importers/{id}"]))
    for (const request of seen) expect(validateRequest(request)).toBeNull()
  })

  it("retries a 429 after Persona's RateLimit-Reset (it sends no Retry-After), with the same Idempotency-Key", async () => {
    const started = Date.now()
    let throttled = 0
    const { result, seen } = await through(
      (_, request) =>
        request.method === "POST" && !throttled++ ? { kind: "status", status: 429, headers: { "ratelimit-limit": "100", "ratelimit-remaining": "0", "ratelimit-reset": "1" } } : { kind: "pass" },
      (url) => persona(url),
      (a) => a.runAction({ referenceId: "abc-123" }, "Set status", { status: "activated" }, inv)
    )
    expect(result._tag).toBe("Right")
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    const posts = seen.filter((s) => s.method === "POST")
    expect(posts).toHaveLength(2)
    expect(posts[0]!.headers["idempotency-key"]).toBe(posts[1]!.headers["idempotency-key"])
  })

  it("retries 500, 503 and resets a bounded number of times, and never repeats an effect whose answer was lost", async () => {
    const { result: recovered, seen } = await through(
      (n) => (n === 1 ? { kind: "status", status: 500 } : n === 2 ? { kind: "reset" } : n === 3 ? { kind: "reset-after-forward" } : { kind: "pass" }),
      (url) => persona(url),
      (a) => a.addTag({ referenceId: "def-456" }, "once", inv)
    )
    expect(recovered._tag).toBe("Right")
    const posts = seen.filter((s) => s.method === "POST")
    expect(new Set(posts.map((s) => s.headers["idempotency-key"])).size).toBe(1)

    const { result: exhausted, seen: tries } = await through(() => ({ kind: "status", status: 503 }), (url) => persona(url), (a) => a.addTag({ id: "act_000000000000000000000000" as never }, "x", inv))
    expect(exhausted).toMatchObject({ _tag: "Left", left: { _tag: "Unavailable" } })
    expect(tries).toHaveLength(4)
  })

  it("gives up on a slow attempt after its timeout and retries it with the same key", async () => {
    let delayed = 0
    const { result, seen } = await through(
      (_, request) => (request.method === "POST" && !delayed++ ? { kind: "delay", ms: 2_500 } : { kind: "pass" }),
      (url) => persona(url),
      (a) => a.addTag({ referenceId: "ghi-789" }, "slow", inv)
    )
    expect(result._tag).toBe("Right")
    const posts = seen.filter((s) => s.method === "POST")
    expect(posts.length).toBeGreaterThanOrEqual(2)
    expect(new Set(posts.map((p) => p.headers["idempotency-key"])).size).toBe(1)
    // The slow first attempt did reach the server: the key made the retry a replay, not a second tag.
    if (result._tag === "Right") expect(result.right.tags.filter((t) => t === "slow")).toHaveLength(1)
  }, 20_000)

  it("does not retry a 4xx, and calls a malformed answer what it is", async () => {
    const { result: refused, seen } = await through(
      () => ({ kind: "pass" }),
      (url) => persona(url),
      (a) => a.runAction({ referenceId: "abc-123" }, "Set status", { status: "sideways" }, inv)
    )
    expect(refused).toMatchObject({ _tag: "Left", left: { _tag: "Unprocessable" } })
    expect(seen.filter((s) => s.method === "POST")).toHaveLength(1)

    const { result: garbled, seen: tries } = await through(() => ({ kind: "raw", status: 200, body: "{\"data\": 42" }), (url) => persona(url), (a) => a.get({ referenceId: "abc-123" }))
    expect(garbled).toMatchObject({ _tag: "Left", left: { _tag: "Unavailable" } })
    expect(garbled._tag === "Left" && (garbled.left as Error).message).toContain("malformed answer from Persona")
    expect(tries).toHaveLength(4)

    // JSON of the wrong shape: what is wrong, by path, not the schema's type printed whole.
    const { result: misshapen } = await through(() => ({ kind: "raw", status: 200, body: JSON.stringify({ data: { type: "account", attributes: {} } }) }), (url) => persona(url), (a) => a.get({ id: "act_hpNqyAbEG4HeVjZoBRNCMKkA" as never }))
    const message = misshapen._tag === "Left" ? (misshapen.left as Error).message : ""
    expect(message).toContain("malformed answer from Persona to GET /accounts/act_hpNqyAbEG4HeVjZoBRNCMKkA: data.id: ")
    expect(message).not.toContain("readonly")
  })
})

describe("SoftwareOne provider", () => {
  it("gets, lists and moves accounts through the lifecycle; a wrong transition is an invalid state with SoftwareOne's reason", async () => {
    const { result, seen } = await through(
      () => ({ kind: "pass" }),
      (url) => softwareOne(url),
      (a) =>
        Effect.gen(function* () {
          const jkl = yield* a.get({ referenceId: "def-456" })
          const page = yield* a.list({ size: 1 })
          const next = yield* a.list({ size: 1, after: page.next! })
          const disabled = yield* a.lifecycle({ id: jkl.id }, "disable", inv)
          const wrong = yield* Effect.flip(a.lifecycle({ id: jkl.id }, "activate", inv))
          const enabled = yield* a.lifecycle({ id: jkl.id }, "enable", inv)
          const missing = yield* Effect.flip(a.get({ id: "act_000000000000000000000000" as never }))
          const tags = yield* Effect.flip(a.addTag({ id: jkl.id }, "x", inv))
          const type = yield* a.getType(enabled.account.accountTypeId)
          const notSoftwareOne = yield* Effect.flip(a.getType("acttp_000000000000000000000000" as never))
          return { jkl, page, next, disabled, wrong, enabled, missing, tags, type, notSoftwareOne }
        })
    )
    if (result._tag === "Left") throw result.left
    const r = result.right
    expect(r.jkl.referenceId).toBe("def-456")
    expect(r.page.items).toHaveLength(1)
    expect(r.next.items[0]!.id).not.toBe(r.page.items[0]!.id)
    expect(r.disabled.run).toMatchObject({ actionName: "disable", status: "succeeded" })
    expect(r.wrong._tag).toBe("InvalidState")
    expect(r.wrong.message).toMatch(/activate applies to Enabled accounts/)
    expect(r.enabled.run.actionName).toBe("enable")
    expect(r.missing._tag).toBe("NotFound")
    expect(r.tags.message).toContain("not part of SoftwareOne's accounts API")
    // SoftwareOne has no type catalog: the provider's type for its accounts reads each status as
    // the state the upstream answered it with (here acct, whose status names are its own).
    expect(r.type).toMatchObject({ id: "softwareone:Client", name: "Client" })
    expect(r.enabled.account.status).not.toBe("Active")
    expect(lifecycleStateOf(r.type, r.enabled.account.status)).toBe("Active")
    expect(lifecycleStateOf(r.type, r.disabled.account.status)).toBe("Disabled")
    expect(r.notSoftwareOne._tag).toBe("NotFound")
    // SoftwareOne's current prefix, served by acct too.
    expect(seen.every((s) => s.url.startsWith("/public/v1/accounts/accounts"))).toBe(true)
    expect(seen.every((s) => s.headers.authorization === `Bearer ${acct.apiKey}`)).toBe(true)
    expect(seen.filter((s) => s.method === "POST").every((s) => typeof s.headers["idempotency-key"] === "string")).toBe(true)
  })

  it("retries a 503 once and reuses the Idempotency-Key", async () => {
    const { result, seen } = await through((n) => (n === 1 ? { kind: "status", status: 503 } : { kind: "pass" }), (url) => softwareOne(url), (a) => a.lifecycle({ referenceId: "def-456" }, "disable", inv))
    expect(result._tag).toBe("Right")
    expect(seen).toHaveLength(2)
    expect(seen[0]!.headers["idempotency-key"]).toBe(seen[1]!.headers["idempotency-key"])
  })
})
