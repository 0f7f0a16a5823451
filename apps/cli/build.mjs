// Bundles the CLI into dist/: a tiny entry (acct.mjs) and chunks loaded on demand, so
// `acct --version` loads almost nothing and the SQLite store loads only when a command needs it.
import { readFileSync } from "node:fs"
import { bundleApp } from "../../scripts/bundle-app.mjs"

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"))
await bundleApp("acct", "src/bin.ts", { splitting: true, define: { __ACCT_VERSION__: JSON.stringify(version) } })
