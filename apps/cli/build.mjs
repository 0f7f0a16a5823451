// Bundles the CLI into dist/: a tiny entry (acct.mjs) and chunks loaded on demand, so
// `acct --version` loads almost nothing and the SQLite store loads only when a command needs it.
import { bundleApp } from "../../scripts/bundle-app.mjs"

await bundleApp("acct", "src/bin.ts", { splitting: true, minify: true })
