// Environment shared by the project's scripts.
import { existsSync } from "node:fs"
import path from "node:path"

// better-sqlite3 compiles from source when no prebuilt binary can be downloaded. node-gyp would
// otherwise try to download Node's headers; point it at the headers of the running Node instead.
const nodeHeadersDir = () => {
  const prefix = path.dirname(path.dirname(process.execPath))
  return existsSync(path.join(prefix, "include", "node", "node.h")) ? prefix : undefined
}

export const pnpmEnv = () => {
  const env = { ...process.env }
  const nodedir = env.npm_config_nodedir ?? nodeHeadersDir()
  if (nodedir) env.npm_config_nodedir = nodedir
  env.TURBO_TELEMETRY_DISABLED = "1"
  return env
}
