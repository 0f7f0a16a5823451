/**
 * TypeScript types for Persona's API, generated from the vendored spec by openapi-typescript
 * (a third party's reading of the spec, not acct's), for the conformance test's openapi-fetch
 * client. Run by the server's typecheck and by the test's setup; the output is not committed.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import process from "node:process"
import { URL } from "node:url"
import openapiTS, { astToString } from "openapi-typescript"

const spec = new URL("../../../../specs/persona-api-2025-12-08.openapi.json", import.meta.url)
const out = new URL("./persona-api.d.ts", import.meta.url)

export const generate = async () => {
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(spec).mtimeMs && statSync(out).mtimeMs >= statSync(new URL(import.meta.url)).mtimeMs) return
  const ast = await openapiTS(JSON.parse(readFileSync(spec, "utf8")))
  writeFileSync(out, `// Generated from specs/persona-api-2025-12-08.openapi.json by openapi-typescript. Do not edit.\n${astToString(ast)}`)
}

if (import.meta.url === `file://${process.argv[1]}`) await generate()
