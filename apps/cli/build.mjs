// Bundles the CLI into dist/: main.cjs (the whole CLI, one CommonJS script, so that src/bin.ts can
// run it through V8's code cache — Node 20 caches no ES modules) and acct.mjs, the tiny entry
// that answers --version without loading anything else. Code reached only through import()
// (the SQLite store, the HTTP clients, the webhook dispatcher) stays in main.cjs but is
// evaluated only when a command imports it.
import { build } from "esbuild"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
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
