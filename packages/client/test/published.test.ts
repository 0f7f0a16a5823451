/**
 * The packages as someone outside this repository gets them: `pnpm pack` each library package,
 * `npm install` the tarballs into a fresh project in the temporary directory (no workspace, no
 * TypeScript sources), then type-check and run the README's library snippets — extracted from
 * README.md itself, so the README cannot drift — against a started built server.
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startAcct } from "./harness.js"

const ROOT = fileURLToPath(new URL("../../../", import.meta.url))
const PACKAGES = ["core", "api", "client", "store-sql"]
const CLI = path.join(ROOT, "apps/cli/dist/acct.mjs")
const require = createRequire(import.meta.url)

const sh = (command: string, args: ReadonlyArray<string>, options: SpawnSyncOptions) => {
  const run = spawnSync(command, args, { encoding: "utf8", timeout: 300_000, ...options })
  if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${run.status ?? run.signal}):\n${run.stdout}\n${run.stderr}`)
  return String(run.stdout)
}

/** The fenced TypeScript blocks of a README section ("## Clients" up to the next "## "). */
export const snippetsOf = (readme: string, section: string): ReadonlyArray<string> => {
  const start = readme.indexOf(`\n## ${section}\n`)
  if (start < 0) throw new Error(`README has no section ${section}`)
  const end = readme.indexOf("\n## ", start + 1)
  const body = readme.slice(start, end < 0 ? undefined : end)
  return [...body.matchAll(/\n```ts\n([\s\S]*?)\n```/g)].map((m) => m[1]!)
}

const catalogVersion = (name: string) => {
  const found = new RegExp(`^\\s+"?${name}"?: (\\S+)$`, "m").exec(readFileSync(path.join(ROOT, "pnpm-workspace.yaml"), "utf8"))
  if (!found) throw new Error(`no catalog entry for ${name}`)
  return found[1]!
}

describe("the packed packages, installed outside the workspace", () => {
  const project = mkdtempSync(path.join(tmpdir(), "acct-published-"))
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8")
  const snippets = [...snippetsOf(readme, "Clients"), ...snippetsOf(readme, "Library")]
  let server: Awaited<ReturnType<typeof startAcct>>

  beforeAll(async () => {
    const tarballs = path.join(project, "tarballs")
    for (const name of PACKAGES) sh(process.execPath, [path.join(ROOT, "scripts/pnpm.mjs"), "pack", "--pack-destination", tarballs], { cwd: path.join(ROOT, "packages", name) })
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "acct-consumer", private: true, type: "module" }))
    const npm = process.platform === "win32" ? "npm.cmd" : "npm"
    // better-sqlite3 compiles from source here (≈ 90 s on two cores): install without scripts and
    // reuse the workspace's compiled addon when it is the same version; otherwise really build it.
    sh(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", ...readdirSync(tarballs).map((t) => path.join(tarballs, t)), `effect@${catalogVersion("effect")}`], { cwd: project })
    const installed = path.join(project, "node_modules/better-sqlite3")
    const workspaceAddon = path.dirname(require.resolve("better-sqlite3/package.json", { paths: [path.dirname(require.resolve("@effect/sql-sqlite-node/package.json", { paths: [path.join(ROOT, "packages/store-sql")] }))] }))
    const sameVersion = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8")).version === JSON.parse(readFileSync(path.join(workspaceAddon, "package.json"), "utf8")).version
    const binary = "build/Release/better_sqlite3.node"
    if (sameVersion && existsSync(path.join(workspaceAddon, binary))) {
      mkdirSync(path.join(installed, "build/Release"), { recursive: true })
      copyFileSync(path.join(workspaceAddon, binary), path.join(installed, binary))
    } else {
      sh(npm, ["rebuild", "better-sqlite3"], { cwd: project })
    }
    // The embedded-store snippet works on ./.acct/acct.db, as the README says: made by `acct init --demo`.
    sh(process.execPath, [CLI, "init", "--demo", "--json"], { cwd: project, env: { ...process.env, ACCT_DATABASE: ".acct/acct.db" } })
    server = await startAcct()
  }, 600_000)
  afterAll(async () => {
    await server?.close()
    rmSync(project, { recursive: true, force: true })
  })

  it("the README shows the Promise client, the AccountsHttp layer and the embedded SqliteStore", () => {
    expect(snippets).toHaveLength(3)
    expect(snippets[0]).toContain("createClient")
    expect(snippets[1]).toContain("AccountsHttp")
    expect(snippets[2]).toContain("SqliteStore")
  })

  it("installs only built JavaScript and declarations, with versions that agree", () => {
    for (const name of ["core", "api", "client", "store-sql"]) {
      const manifest = JSON.parse(readFileSync(path.join(project, "node_modules/@acct", name, "package.json"), "utf8"))
      expect(manifest.version).toBe(JSON.parse(readFileSync(path.join(ROOT, "packages/core/package.json"), "utf8")).version)
      for (const dependency of Object.values<string>(manifest.dependencies)) expect(dependency).not.toMatch(/^(workspace|catalog):/)
    }
  })

  it("the server's OpenAPI document and the CLI report the packages' version", async () => {
    const { VERSION } = await import("@acct/core/version")
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as { info: { version: string } }
    expect(openapi.info.version).toBe(VERSION)
    expect(sh(process.execPath, [CLI, "--version"], {}).trim()).toBe(VERSION)
  })

  it("the snippets type-check against the installed declarations", () => {
    snippets.forEach((code, i) => writeFileSync(path.join(project, `snippet-${i + 1}.ts`), code))
    writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
          typeRoots: [path.join(ROOT, "node_modules/@types")]
        },
        include: ["snippet-*.ts"]
      })
    )
    sh(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: project })
  })

  it("the snippets run unchanged against a started server and the demo database", async () => {
    const { transformSync } = await import("esbuild")
    const outputs = snippets.map((code, i) => {
      const file = path.join(project, `snippet-${i + 1}.mjs`)
      writeFileSync(file, transformSync(code, { loader: "ts", format: "esm", target: "node20" }).code)
      return sh(process.execPath, [file], { cwd: project, env: { ...process.env, ACCT_URL: server.url, ACCT_API_KEY: server.apiKey }, timeout: 60_000 })
    })
    expect(outputs[0]).toMatch(/^activated wfr_\w+\ndisabled\n/)
    expect(outputs[0]).toContain("def-456")
    expect(outputs[1]).toBe("abc-123 disabled\n")
    expect(outputs[2]).toMatch(/^activated wfr_\w+\n$/)
  })
}, 900_000)
