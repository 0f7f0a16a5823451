// Runs every benchmark. Each prints its figures as ratios against a baseline measured in the
// same run on this machine, so the numbers travel between machines. Never part of `npm test`.
//   npm run bench              all of them
//   npm run bench -- store     those whose name contains "store"
import { spawnSync } from "node:child_process"
import { build } from "esbuild"
import { readdirSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const filter = process.argv[2] ?? ""
const benches = readdirSync(here).filter((f) => /\.bench\.(ts|mjs)$/.test(f) && f.includes(filter)).sort()

for (const file of benches) {
  let entry = path.join(here, file)
  if (file.endsWith(".ts")) {
    // TypeScript benches import the workspace sources: bundle them first.
    const outfile = path.join(here, ".out", file.replace(/\.ts$/, ".mjs"))
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      external: ["better-sqlite3"],
      conditions: ["@acct/source"],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: "warning"
    })
    entry = outfile
  }
  console.log(`\n=== ${file} ===`)
  const run = spawnSync(process.execPath, [entry], { stdio: "inherit", cwd: here })
  if (run.status !== 0) process.exitCode = run.status ?? 1
}
