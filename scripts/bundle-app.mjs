// Bundles an app (in the current directory) into dist/<name>.mjs for Node 20 with esbuild
// (`entry` may also map several names to entry files).
// better-sqlite3 stays external (a native addon, loaded from node_modules at run time); a
// require() shim serves the CommonJS dependencies.
import { build } from "esbuild"
import { rmSync } from "node:fs"

export const bundleApp = async (name, entry = "src/main.ts", options = {}) => {
  rmSync("dist", { recursive: true, force: true })
  return await build({
    entryPoints: typeof entry === "string" ? { [name]: entry } : entry,
    outdir: "dist",
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outExtension: { ".js": ".mjs" },
    external: ["better-sqlite3"],
    // Bundle the @acct packages from their TypeScript sources (see their `exports`).
    conditions: ["@acct/source"],
    banner: { js: "import { createRequire as __acctCreateRequire } from 'node:module'; const require = __acctCreateRequire(import.meta.url);" },
    legalComments: "none",
    logLevel: "warning",
    ...options
  })
}
