// Bundles the CLI into dist/: main.cjs (the whole CLI, one CommonJS script, so that src/bin.ts can
// run it through V8's code cache — Node 20 caches no ES modules) and acct.mjs, the tiny entry
// that answers --version without loading anything else. Code reached only through import()
// (the SQLite store, the HTTP clients, the webhook dispatcher) stays in main.cjs but is
// evaluated only when a command imports it.
import { build } from "esbuild"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { bundleApp } from "../../scripts/bundle-app.mjs"

const main = await bundleApp("main", "src/main.ts", { format: "cjs", outExtension: { ".js": ".cjs" }, banner: {}, minify: true, metafile: true })

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
