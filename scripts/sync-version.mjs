// After `changeset version`: writes @acct/core's package.json version into
// packages/core/src/version.ts, the module the CLI, the OpenAPI document and clients read.
import { readFileSync, writeFileSync } from "node:fs"

const { version } = JSON.parse(readFileSync(new URL("../packages/core/package.json", import.meta.url), "utf8"))
const file = new URL("../packages/core/src/version.ts", import.meta.url)
writeFileSync(file, readFileSync(file, "utf8").replace(/export const VERSION = ".*"/, `export const VERSION = ${JSON.stringify(version)}`))
console.log(`version.ts: ${version}`)
