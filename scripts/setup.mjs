// Installs dependencies (frozen lockfile when one exists) and builds every package.
// Used by `npm start` and `npm test` so both work on a fresh machine with only Node 20 and npm.
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { pnpmEnv } from "./env.mjs"

const npx = process.platform === "win32" ? "npx.cmd" : "npx"
const pnpm = (...args) => {
  const result = spawnSync(npx, ["-y", "pnpm@10.34.9", ...args], { stdio: ["ignore", "inherit", "inherit"], env: pnpmEnv() })
  if (result.status !== 0) {
    console.error(`\nsetup: \`pnpm ${args.join(" ")}\` failed (exit ${result.status}).`)
    process.exit(result.status ?? 1)
  }
}

const quiet = ["--reporter=append-only", "--config.confirmModulesPurge=false"]
pnpm("install", ...(existsSync("pnpm-lock.yaml") ? ["--frozen-lockfile"] : []), ...quiet)
pnpm("exec", "turbo", "run", "build", "--output-logs=errors-only")
