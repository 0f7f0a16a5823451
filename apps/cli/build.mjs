// Bundles the CLI into dist/: main.cjs (the whole CLI, one CommonJS script, so that src/bin.ts can
// run it through V8's code cache — Node 20 caches no ES modules), acct.mjs, the tiny entry that
// answers --version without loading anything else, and main.cjs's code cache (see the end). Code
// reached only through import() (the SQLite store, the HTTP clients, the webhook dispatcher)
// stays in main.cjs but is evaluated only when a command imports it.
import { build } from "esbuild"
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { bundleApp } from "../../scripts/bundle-app.mjs"

// better-sqlite3's JavaScript (15 small files Node's loader would resolve and compile at every
// start) goes into the bundle, so the code cache covers it too. Only its native addon stays
// outside: `bindings` finds it from the package's installed folder, not from the bundle's.
const betterSqliteAddon = {
  name: "better-sqlite3-addon",
  setup(build) {
    build.onResolve({ filter: /^bindings$/ }, (args) =>
      args.importer.includes(`${path.sep}better-sqlite3${path.sep}lib${path.sep}`)
        ? { path: "bindings", namespace: "better-sqlite3-addon", pluginData: { resolveDir: args.resolveDir } }
        : undefined
    )
    build.onLoad({ filter: /.*/, namespace: "better-sqlite3-addon" }, (args) => ({
      resolveDir: args.pluginData.resolveDir,
      loader: "js",
      contents: `const bindings = require("bindings")
const path = require("node:path")
module.exports = (name) => bindings({ bindings: name, module_root: path.dirname(require.resolve("better-sqlite3/package.json")) })`
    }))
  }
}

const main = await bundleApp("main", "src/main.ts", {
  format: "cjs",
  outExtension: { ".js": ".cjs" },
  banner: {},
  minify: true,
  metafile: true,
  external: ["better-sqlite3/package.json"],
  plugins: [betterSqliteAddon]
})

// vm.Script runs main.cjs without an ES module loader: an import() left in it would fail at run time.
const external = Object.values(main.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.kind === "dynamic-import" && i.external))
if (external.length > 0) throw new Error(`dist/main.cjs must not import() external modules: ${external.map((i) => i.path).join(", ")}`)

const bundleId = createHash("sha256").update(readFileSync("dist/main.cjs")).digest("hex").slice(0, 16)
await build({
  entryPoints: { acct: "src/bin.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  define: { ACCT_BUNDLE_ID: JSON.stringify(bundleId) },
  legalComments: "none",
  logLevel: "warning"
})

// The code cache of this build, made by this Node, ships beside the bundle (src/code-cache.ts
// reads it when the user's cache directory has none): without it the first run after a build
// compiles the whole bundle, about twice the time of a cached run. Made by `accounts get` on a
// demo database in a folder of its own, with none of acct's settings from this environment; the
// cache directory of `init` is a path that cannot be made, so only `get` writes one.
const warm = mkdtempSync(path.join(tmpdir(), "acct-build-cache-"))
try {
  writeFileSync(path.join(warm, "not-a-directory"), "")
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ACCT_")))
  const acct = (args, cacheDir) => {
    const run = spawnSync(process.execPath, [path.resolve("dist/acct.mjs"), ...args], {
      cwd: warm,
      env: { ...env, ACCT_DATABASE: path.join(warm, "acct.db"), ACCT_CACHE_DIR: cacheDir },
      encoding: "utf8"
    })
    if (run.status !== 0) throw new Error(`making the code cache: acct ${args.join(" ")} failed (${run.status ?? run.signal}): ${run.stderr}`)
  }
  acct(["init", "--demo"], path.join(warm, "not-a-directory", "cache"))
  acct(["accounts", "get", "abc-123", "--json"], path.join(warm, "cache"))
  const [cache, ...others] = readdirSync(path.join(warm, "cache"))
  if (cache === undefined || others.length > 0) throw new Error(`making the code cache: expected one cache file, found ${[cache, ...others].join(", ")}`)
  copyFileSync(path.join(warm, "cache", cache), path.join("dist", cache))
} finally {
  rmSync(warm, { recursive: true, force: true })
}
