/**
 * Where the profiles live: ACCT_CONFIG, else the first acct.config.* in the working directory.
 * A module of its own (`@acct/client/config-file`) so the CLI can ask without loading clients.
 */
import { existsSync } from "node:fs"
import path from "node:path"

export const CONFIG_FILES = ["acct.config.yaml", "acct.config.yml", "acct.config.json"]

export const findConfigFile = (env: Readonly<Record<string, string | undefined>>, cwd = process.cwd()): string | undefined =>
  env.ACCT_CONFIG ?? CONFIG_FILES.map((f) => path.join(cwd, f)).find((f) => existsSync(f))
