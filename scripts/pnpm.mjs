// Runs the pinned pnpm without corepack (corepack fails registry signature checks on some
// machines) and without a global install: `node scripts/pnpm.mjs <args>`.
import { spawnSync } from "node:child_process"
import { pnpmEnv } from "./env.mjs"

const npx = process.platform === "win32" ? "npx.cmd" : "npx"
const result = spawnSync(npx, ["-y", "pnpm@10.34.9", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: pnpmEnv()
})
process.exit(result.status ?? 1)
