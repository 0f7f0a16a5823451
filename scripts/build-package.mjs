// Builds a library package (run in its directory): ESM JavaScript and `.d.ts` from src/ into
// dist/, with tsc (tsconfig.build.json). dist/ is emptied first so a deleted module leaves no
// stale file behind to be packed.
import { spawnSync } from "node:child_process"
import { rmSync } from "node:fs"
import { createRequire } from "node:module"

rmSync("dist", { recursive: true, force: true })
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" })
process.exit(result.status ?? 1)
