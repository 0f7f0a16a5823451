// CLI start-up: `acct --version` and `acct accounts get <id> --json`, median of 15 interleaved rounds,
// as a ratio to `node -e 0` measured in the same run. Goals: ≤ 1.5× and ≤ 3×. `get` runs with a
// cache directory of this run (a build that ships its code cache leaves it empty; one that does
// not writes its cache there on the first run). Two more rows: `get` with a new, empty cache
// directory every run (the first run after a build), and `get` with no cache at all (a copy of
// the build without the cache it ships, and a cache directory that cannot be written: every run
// compiles the bundle, as a Node other than the building one does on its first run).
// BENCH_ACCT_CLI=<path to a built acct.mjs> measures another build (e.g. main's, for a before/after).
import { spawnSync } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"

const bin = process.env.BENCH_ACCT_CLI ? path.resolve(process.env.BENCH_ACCT_CLI) : fileURLToPath(new URL("../apps/cli/dist/acct.mjs", import.meta.url))
const dir = mkdtempSync(path.join(tmpdir(), "acct-bench-"))
const env = { ...process.env, ACCT_DATABASE: path.join(dir, "acct.db"), ACCT_CACHE_DIR: path.join(dir, "code-cache") }
writeFileSync(path.join(dir, "not-a-directory"), "")
const uncached = { ...env, ACCT_CACHE_DIR: path.join(dir, "not-a-directory", "code-cache") }
// The build without its shipped cache (node_modules: the build's own, for better-sqlite3).
const bareBin = path.join(dir, "bare", "dist", path.basename(bin))
mkdirSync(path.dirname(bareBin), { recursive: true })
for (const file of readdirSync(path.dirname(bin)).filter((f) => !f.endsWith(".v8"))) copyFileSync(path.join(path.dirname(bin), file), path.join(path.dirname(bareBin), file))
symlinkSync(path.join(path.dirname(bin), "..", "node_modules"), path.join(dir, "bare", "node_modules"))
const RUNS = 15

// An environment, or a function making one per run.
const exec = (args, withEnv = env) => {
  const run = spawnSync(process.execPath, args, { env: typeof withEnv === "function" ? withEnv() : withEnv, encoding: "utf8" })
  if (run.status !== 0) throw new Error(`${args.join(" ")} failed: ${run.stderr}`)
  return run.stdout
}
exec([bin, "init", "--demo"])
const id = JSON.parse(exec([bin, "accounts", "get", "abc-123", "--json"])).id

const time = (args, withEnv) => {
  const start = process.hrtime.bigint()
  exec(args, withEnv)
  return Number(process.hrtime.bigint() - start) / 1e6
}
const cases = {
  baseline: [["-e", "0"], env],
  version: [[bin, "--version"], env],
  get: [[bin, "accounts", "get", id, "--json"], env],
  // A new, empty cache directory every run: the first run after a build (or on a new machine).
  getFirst: [[bin, "accounts", "get", id, "--json"], () => ({ ...env, ACCT_CACHE_DIR: mkdtempSync(path.join(dir, "first-")) })],
  getUncached: [[bareBin, "accounts", "get", id, "--json"], uncached]
}
// One run of each first: the file cache warm (a build without a shipped cache writes its code cache now).
for (const [args, withEnv] of Object.values(cases)) exec(args, withEnv)
// Interleaved rounds (each round runs every case once), so load on the machine hits all alike.
const times = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
for (let i = 0; i < RUNS; i++) for (const [name, [args, withEnv]] of Object.entries(cases)) times[name].push(time(args, withEnv))
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]
const [base, version, get, getFirst, getUncached] = ["baseline", "version", "get", "getFirst", "getUncached"].map((name) => median(times[name]))

const row = (name, ms, goal) => {
  const ratio = ms / base
  console.log(`${name.padEnd(34)} ${ms.toFixed(1).padStart(7)} ms  ${ratio.toFixed(2).padStart(5)}×  goal ≤ ${goal}×  ${ratio <= goal ? "ok" : "MISSED"}`)
}
console.log(`median of ${RUNS} interleaved rounds; baseline node -e 0 = ${base.toFixed(1)} ms`)
row("acct --version", version, 1.5)
row("acct accounts get <id> --json", get, 3)
const info = (name, ms) => console.log(`${name.padEnd(34)} ${ms.toFixed(1).padStart(7)} ms  ${(ms / base).toFixed(2).padStart(5)}×`)
info("  the same, a first run", getFirst)
info("  the same without a code cache", getUncached)
