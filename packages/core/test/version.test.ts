/** One version for all of acct: every package, the CLI's --version and the OpenAPI info.version read VERSION. */
import { readdirSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { VERSION } from "../src/version.js"

const root = new URL("../../../", import.meta.url)
const manifests = ["packages", "apps"].flatMap((dir) =>
  readdirSync(new URL(`${dir}/`, root)).map((name) => JSON.parse(readFileSync(new URL(`${dir}/${name}/package.json`, root), "utf8")) as { name: string; version: string })
)

describe("acct's version", () => {
  it("every package has the version in @acct/core's version.ts", () => {
    expect(manifests.length).toBeGreaterThanOrEqual(7)
    for (const manifest of manifests) expect(`${manifest.name}@${manifest.version}`).toBe(`${manifest.name}@${VERSION}`)
  })

  it("the packages are released together, so they stay in agreement", () => {
    const config = JSON.parse(readFileSync(new URL(".changeset/config.json", root), "utf8")) as { fixed: ReadonlyArray<ReadonlyArray<string>> }
    expect(config.fixed).toContainEqual(["@acct/*"])
  })
})
