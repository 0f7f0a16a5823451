// Bundles the Slack app into dist/slack.mjs (better-sqlite3 stays external: a native addon).
import { build } from "esbuild"
import { rmSync } from "node:fs"

rmSync(new URL("./dist", import.meta.url), { recursive: true, force: true })
await build({
  entryPoints: { slack: "src/main.ts" },
  outdir: "dist",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  external: ["better-sqlite3"],
  banner: { js: "import { createRequire as __acctCreateRequire } from 'node:module'; const require = __acctCreateRequire(import.meta.url);" },
  legalComments: "none",
  logLevel: "warning"
})
