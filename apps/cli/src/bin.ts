#!/usr/bin/env node
/**
 * Entry point. `--version` answers before anything heavy loads; everything else runs the CLI's
 * bundle (built from main.ts into dist/main.cjs) through V8's code cache.
 */
import { fileURLToPath } from "node:url"
import { runBundle } from "./code-cache.js"
import { VERSION } from "./version.js"

/** The bundle's content hash, set by build.mjs: a rebuilt bundle never meets an old code cache. */
declare const ACCT_BUNDLE_ID: string

const args = process.argv.slice(2)
if (args.length === 1 && args[0] === "--version") {
  process.stdout.write(`${VERSION}\n`)
} else {
  runBundle(fileURLToPath(new URL("./main.cjs", import.meta.url)), ACCT_BUNDLE_ID)
}
