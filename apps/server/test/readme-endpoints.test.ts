/**
 * The README's endpoint list ("Endpoints: …" up to "Operations: …" in "HTTP service") names every
 * operation acct serves under /api/v1, and the health endpoints, as the OpenAPI document has them.
 */
import { AcctApi } from "@acct/api"
import { OpenApi } from "@effect/platform"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

const README = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")

/** `/a[/{id}[/b]]/c|d` → every path it stands for: optional parts, then alternatives per segment. */
const expandPath = (path: string): ReadonlyArray<string> => {
  const open = path.indexOf("[")
  if (open >= 0) {
    // The outermost optional part: `[/{id}[/errors]]` is nothing, or `/{id}` with its own optional part.
    let depth = 0
    let close = open
    for (; close < path.length; close++) {
      depth += path[close] === "[" ? 1 : path[close] === "]" ? -1 : 0
      if (depth === 0) break
    }
    const [before, inner, after] = [path.slice(0, open), path.slice(open + 1, close), path.slice(close + 1)]
    return [...expandPath(before + after), ...expandPath(before + inner + after)]
  }
  return path
    .split("/")
    .slice(1)
    .reduce<ReadonlyArray<string>>((paths, segment) => paths.flatMap((p) => segment.split("|").map((s) => `${p}/${s}`)), [""])
}

/** "GET /accounts/{id}" for every method and path a `METHOD|METHOD /path` span of the list names. */
const documented = (): ReadonlySet<string> => {
  const start = README.indexOf("\nEndpoints: ")
  const end = README.indexOf("\n\n", README.indexOf("\nOperations: ", start))
  if (start < 0 || end < 0) throw new Error("README has no Endpoints: … Operations: … paragraph")
  const spans = README.slice(start, end).matchAll(/`((?:GET|POST|PATCH|PUT|DELETE)(?:\|(?:GET|POST|PATCH|PUT|DELETE))*) (\/[^`\s]*)`/g)
  return new Set([...spans].flatMap(([, methods, path]) => methods!.split("|").flatMap((m) => expandPath(path!).map((p) => `${m} ${p}`))))
}

/** The OpenAPI document's operations as the README writes them: no /api/v1 prefix, every parameter `{id}`. */
const served = (): ReadonlyArray<string> =>
  Object.entries(OpenApi.fromApi(AcctApi).paths).flatMap(([path, operations]) =>
    path.startsWith("/api/v1/") || path === "/healthz" || path === "/readyz"
      ? Object.keys(operations as object).map((method) => `${method.toUpperCase()} ${path.replace(/^\/api\/v1/, "").replace(/\{[^}]+\}/g, "{id}")}`)
      : []
  )

describe("the README's endpoint list", () => {
  it("reads its shorthand", () => {
    expect(expandPath("/importers[/{id}[/errors]]")).toEqual(["/importers", "/importers/{id}", "/importers/{id}/errors"])
    expect(expandPath("/accounts/{id}/enable|disable")).toEqual(["/accounts/{id}/enable", "/accounts/{id}/disable"])
  })

  it("names every operation the server has", () => {
    const list = documented()
    const operations = served()
    expect(operations.length).toBeGreaterThan(40)
    expect(operations.filter((operation) => !list.has(operation))).toEqual([])
  })
})
