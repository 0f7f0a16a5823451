/** One resolver for every app, read through Config: a test gives it a ConfigProvider, no process.env. */
import { ConfigProvider, Effect, Layer } from "effect"
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { backendAccounts, backendWithEvents, type BackendRequest, idOwnerOf, resolveBackend } from "../src/index.js"

const resolve = (settings: Record<string, string>, request: BackendRequest = { frontEnd: true }) =>
  Effect.runPromise(Effect.either(resolveBackend(request)).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(settings))))))

const ok = async (settings: Record<string, string>, request?: BackendRequest) => {
  const result = await resolve(settings, request)
  if (result._tag === "Left") throw new Error(String(result.left))
  return result.right
}

const configFile = (text: string) => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "acct-backend-")), "acct.config.yaml")
  writeFileSync(file, text)
  return file
}

describe("resolveBackend", () => {
  it("defaults to the local SQLite file, or ACCT_DATABASE (a file or a postgres:// URL)", async () => {
    expect(await ok({})).toMatchObject({ kind: "local", database: ".acct/acct.db" })
    expect(await ok({ ACCT_DATABASE: "postgres://db/acct" })).toMatchObject({ kind: "local", database: "postgres://db/acct" })
    expect(await ok({ ACCT_DATABASE: "a.db" }, { frontEnd: true, database: "b.db" })).toMatchObject({ database: "b.db" })
  })

  it("a front end uses the acct server in ACCT_URL with ACCT_API_KEY; the server never does", async () => {
    const remote = await ok({ ACCT_URL: "http://acct.internal/", ACCT_API_KEY: "acct_k" })
    expect(remote).toMatchObject({ kind: "upstream", profile: { provider: "remote", url: "http://acct.internal", apiKey: "acct_k" }, describe: "acct server http://acct.internal" })
    expect(await ok({ ACCT_URL: "http://acct.internal", ACCT_API_KEY: "acct_k" }, { frontEnd: false })).toMatchObject({ kind: "local" })
    const noKey = await resolve({ ACCT_URL: "http://acct.internal" })
    expect(noKey._tag === "Left" && noKey.left.message).toContain("needs an API key in the environment variable ACCT_API_KEY")
    const flag = await ok({ ACCT_URL: "http://other", ACCT_API_KEY: "k" }, { frontEnd: true, remote: "https://given" })
    expect(flag).toMatchObject({ profile: { url: "https://given", name: "--remote" } })
    const bad = await resolve({ ACCT_API_KEY: "k" }, { frontEnd: true, remote: "ftp://x" })
    expect(bad._tag === "Left" && bad.left.message).toBe('--remote must be an http(s) URL, got "ftp://x"')
  })

  it("ACCT_PROVIDER picks an upstream provider with its variables", async () => {
    expect(await ok({ ACCT_PROVIDER: "persona", ACCT_PERSONA_API_KEY: "persona_k" })).toMatchObject({ kind: "upstream", profile: { provider: "persona", apiKey: "persona_k" } })
    const missing = await resolve({ ACCT_PROVIDER: "softwareone" })
    expect(missing._tag === "Left" && missing.left.message).toContain("ACCT_PROVIDER=softwareone needs ACCT_SOFTWAREONE_URL")
  })

  it("a profile from the config file, named by ACCT_PROFILE or the request, with its secret read through Config", async () => {
    const file = configFile("default: here\nprofiles:\n  here: { provider: local, database: here.db }\n  market: { provider: softwareone, url: https://swo.example, tokenEnv: SWO_TOKEN_FOR_TEST }\n")
    expect(await ok({ ACCT_CONFIG: file })).toMatchObject({ kind: "local", database: "here.db" })
    const market = { kind: "upstream", profile: { provider: "softwareone", url: "https://swo.example", token: "swo_t" }, describe: "softwareone profile market" }
    expect(await ok({ ACCT_CONFIG: file, ACCT_PROFILE: "market", SWO_TOKEN_FOR_TEST: "swo_t" })).toMatchObject(market)
    expect(await ok({ ACCT_CONFIG: file, SWO_TOKEN_FOR_TEST: "swo_t" }, { frontEnd: false, profile: "market" })).toMatchObject(market)
    const unknown = await resolve({ ACCT_CONFIG: file, ACCT_PROFILE: "nope" })
    expect(unknown._tag === "Left" && unknown.left.message).toContain('no profile "nope"')
  })

  it("says whose ids the chosen backend's records carry: acct's on a local store, an upstream's otherwise", async () => {
    expect(idOwnerOf(await ok({}))).toBe("acct")
    expect(idOwnerOf(await ok({ ACCT_URL: "http://acct.internal", ACCT_API_KEY: "acct_k" }))).toBe("upstream")
    expect(idOwnerOf(await ok({ ACCT_PROVIDER: "persona", ACCT_PERSONA_API_KEY: "persona_k" }))).toBe("upstream")
  })

  it("with mustExist, a local database that is not there is refused with how to create it, and nothing is created", async () => {
    const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-backend-")), "missing", "acct.db")
    const mustExist = (at: string) => ({ howToCreate: `create one with \`acct init --db ${at}\`` })
    const chosen = await ok({}, { frontEnd: true, database, mustExist })
    expect(chosen).toMatchObject({ kind: "local", database, mustExist: { howToCreate: `create one with \`acct init --db ${database}\`` } })
    for (const layer of [backendAccounts(chosen), backendWithEvents(chosen)]) {
      const opened = await Effect.runPromise(Effect.either(Layer.build(layer).pipe(Effect.scoped)))
      expect(opened._tag === "Left" && opened.left.message).toBe(`there is no acct database at ${database}; create one with \`acct init --db ${database}\``)
    }
    expect(existsSync(path.dirname(database))).toBe(false)
  })
})
