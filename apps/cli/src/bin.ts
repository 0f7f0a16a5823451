#!/usr/bin/env node
/**
 * Entry point. `--version` answers before anything heavy loads; everything else imports the CLI.
 */
import { VERSION } from "./version.js"

const args = process.argv.slice(2)
if (args.length === 1 && args[0] === "--version") {
  process.stdout.write(`${VERSION}\n`)
} else {
  await import("./main.js")
}
