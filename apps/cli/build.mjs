// Bundles the CLI into dist/: a tiny entry (acct.mjs) and chunks loaded on demand, so
// `acct --version` loads almost nothing and the SQLite store loads only when a command needs it.
import { build } from "esbuild"
import { readFileSync, rmSync } from "node:fs"

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"))
rmSync(new URL("./dist", import.meta.url), { recursive: true, force: true })

await build({
  entryPoints: { acct: "src/bin.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  // Native addon: loaded from node_modules at run time.
  external: ["better-sqlite3"],
  define: { __ACCT_VERSION__: JSON.stringify(version) },
  // Some dependencies are CommonJS and call require().
  banner: { js: "import { createRequire as __acctCreateRequire } from 'node:module'; const require = __acctCreateRequire(import.meta.url);" },
  legalComments: "none",
  logLevel: "warning"
})
