import { Either } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { book, initialPacer, observe, parseConfigFile, readRateLimit, resolveProfile } from "../src/index.js"

const dir = () => mkdtempSync(path.join(tmpdir(), "acct-profiles-"))

const config = `
default: marketplace
profiles:
  persona:
    provider: persona
    apiKeyEnv: PERSONA_KEY
    actions: { Set status: accac_000000000000000000000001 }
    lifecycle:
      enable: { action: Set status, parameters: { status: enabled } }
  marketplace: { provider: softwareone, url: "https://api.platform.softwareone.com/public", tokenEnv: SWO_TOKEN }
  here: { provider: local, database: other.db }
`

describe("profiles", () => {
  it("resolves --profile, then ACCT_PROVIDER, then the file's default, with secrets from the environment", () => {
    const cwd = dir()
    writeFileSync(path.join(cwd, "acct.config.yaml"), config)
    const env = { PERSONA_KEY: "persona-secret", SWO_TOKEN: "swo-secret" }
    expect(Either.getOrThrow(resolveProfile("persona", env, cwd))).toMatchObject({
      provider: "persona",
      url: "https://api.withpersona.com/api/v1",
      apiKey: "persona-secret",
      lifecycle: { enable: { action: "Set status", parameters: { status: "enabled" } } }
    })
    expect(Either.getOrThrow(resolveProfile(undefined, env, cwd))).toMatchObject({ name: "marketplace", provider: "softwareone", token: "swo-secret" })
    expect(Either.getOrThrow(resolveProfile(undefined, { ...env, ACCT_PROVIDER: "persona", ACCT_PERSONA_API_KEY: "k" }, cwd))).toMatchObject({ name: "env", provider: "persona", apiKey: "k" })
    expect(Either.getOrThrow(resolveProfile(undefined, {}, dir()))).toBeUndefined()
  })

  it("says exactly what is wrong", () => {
    const cwd = dir()
    writeFileSync(path.join(cwd, "acct.config.yaml"), config)
    const message = (e: Either.Either<unknown, { message: string }>) => Either.match(e, { onLeft: (l) => l.message, onRight: () => "ok" })
    expect(message(resolveProfile("nope", {}, cwd))).toMatch(/no profile "nope" in .*acct\.config\.yaml; it has persona, marketplace, here/)
    expect(message(resolveProfile("persona", {}, cwd))).toBe('profile "persona" needs its secret in the environment variable PERSONA_KEY, which is not set')
    expect(message(resolveProfile(undefined, { ACCT_PROVIDER: "sharepoint" }, cwd))).toContain("ACCT_PROVIDER must be local, remote, persona or softwareone")
    expect(message(resolveProfile(undefined, { ACCT_PROVIDER: "softwareone", ACCT_SOFTWAREONE_URL: "https://x" }, cwd))).toBe("ACCT_PROVIDER=softwareone needs ACCT_SOFTWAREONE_TOKEN")
    expect(message(resolveProfile("x", {}, dir()))).toContain("--profile x: no config file")
    expect(message(parseConfigFile("profiles:\n  p: { provider: remote, url: https://a, apiKeyEnv: K, apiKey: sk_live_123 }\n", "f.yaml"))).toBe(
      "f.yaml: profiles.p.apiKey holds a secret; config files name an environment variable instead (apiKeyEnv / tokenEnv)"
    )
    expect(message(parseConfigFile("profiles:\n  p: { provider: remote, url: ftp://a, apiKeyEnv: K }\n", "f.yaml"))).toContain("expected an http(s) URL")
    expect(message(parseConfigFile("{", "f.json"))).toMatch(/^f\.json: not valid JSON/)
  })
})

describe("the client-side limiter", () => {
  it("spaces requests at the upstream's rate once it has said its limit, and stops until the reset when nothing is left", () => {
    const seen = readRateLimit({ "ratelimit-limit": "200", "ratelimit-remaining": "150", "ratelimit-reset": "1" })
    let state = observe(initialPacer, 0, seen)
    const starts: Array<number> = []
    for (let i = 0; i < 4; i++) {
      const [at, next] = book(state, 0)
      starts.push(at)
      state = next
    }
    expect(starts.map((s) => Math.round(s * 100) / 100)).toEqual([0, 5.15, 10.3, 15.45])
    const [afterEmpty] = book(observe(state, 20, { limit: 200, remaining: 0, resetSeconds: 1 }), 20)
    expect(afterEmpty).toBe(1020)
    // No headers: no pacing at all.
    expect(book(observe(initialPacer, 0, readRateLimit({})), 7)[0]).toBe(7)
  })
})
