// CLI start-up: `acct --version` and `acct accounts get <id> --json`, median of 15 runs each,
// as a ratio to `node -e 0` measured in the same run. Goals: ≤ 1.5× and ≤ 3×.
import { spawnSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"

const bin = fileURLToPath(new URL("../apps/cli/dist/acct.mjs", import.meta.url))
const dir = mkdtempSync(path.join(tmpdir(), "acct-bench-"))
const env = { ...process.env, ACCT_DATABASE: path.join(dir, "acct.db") }
const RUNS = 15

const exec = (args) => {
  const run = spawnSync(process.execPath, args, { env, encoding: "utf8" })
  if (run.status !== 0) throw new Error(`${args.join(" ")} failed: ${run.stderr}`)
  return run.stdout
}
exec([bin, "init", "--demo"])
const id = JSON.parse(exec([bin, "accounts", "get", "abc-123", "--json"])).id

const median = (args) => {
  exec(args) // warm the file cache
  const times = []
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint()
    exec(args)
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

// Interleave so load on the machine hits every command alike.
const baseline = median(["-e", "0"])
const version = median([bin, "--version"])
const get = median([bin, "accounts", "get", id, "--json"])
const baseline2 = median(["-e", "0"])
const base = (baseline + baseline2) / 2

const row = (name, ms, goal) => {
  const ratio = ms / base
  console.log(`${name.padEnd(34)} ${ms.toFixed(1).padStart(7)} ms  ${ratio.toFixed(2).padStart(5)}×  goal ≤ ${goal}×  ${ratio <= goal ? "ok" : "MISSED"}`)
}
console.log(`median of ${RUNS} runs; baseline node -e 0 = ${base.toFixed(1)} ms`)
row("acct --version", version, 1.5)
row("acct accounts get <id> --json", get, 3)
