/**
 * The Slack app's settings from the environment (see main.ts) that both threads read. Problems
 * end the process with a message saying what to fix.
 */
import { Either } from "effect"
import { readFileSync } from "node:fs"
import { defaultPolicy, parsePolicy, type Policy } from "./policy.js"

const env = process.env
/** A start-up problem: one line on standard error, exit 1 (like the server's). */
export const fail = (message: string): never => {
  process.stderr.write(`acct-slack: ${message}\n`)
  process.exit(1)
}

export const loadPolicy = (): Policy => {
  const file = env.ACCT_SLACK_POLICY
  if (!file) return defaultPolicy
  let text = ""
  try {
    text = readFileSync(file, "utf8")
  } catch (e) {
    fail(`cannot read ACCT_SLACK_POLICY ${file}: ${(e as Error).message}`)
  }
  return Either.getOrElse(parsePolicy(text, file), (e) => fail(e.message))
}
