/**
 * Refuses a signature seen before while its request is still within the signing window: a
 * captured request replayed as is. (Slack does not retry slash commands or button clicks, so a
 * repeat is never legitimate.)
 *
 * Given a file, the guard survives restarts: every accepted signature is appended to it (one
 * line, `<expires-at> <signature>`) before the request goes on, and read back at start. The
 * append is a plain write to the file, without fsync: it survives the process, which is the
 * restart this protects against, at a few microseconds per request. Lines whose window has
 * closed are dropped whenever the file is rewritten (at start, and when it holds more than twice
 * what is live).
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs"

export interface ReplayGuard {
  /** True the first time `signature` is seen before `expiresAt` (Unix seconds); false for a repeat. */
  readonly admit: (signature: string, expiresAt: number, nowSeconds: number) => boolean
  readonly close: () => void
}

const SWEEP_EVERY = 1_000

const readSeen = (file: string, nowSeconds: number) => {
  const seen = new Map<string, number>()
  if (!existsSync(file)) return seen
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [expires, signature] = line.split(" ")
    const until = Number(expires)
    // A torn last line (the process stopped mid-write) is simply skipped.
    if (signature && Number.isInteger(until) && until >= nowSeconds) seen.set(signature, Math.max(until, seen.get(signature) ?? 0))
  }
  return seen
}

export const makeReplayGuard = (options: { readonly file?: string | undefined; readonly nowSeconds?: number } = {}): ReplayGuard => {
  const { file } = options
  const seen = file ? readSeen(file, options.nowSeconds ?? Math.floor(Date.now() / 1000)) : new Map<string, number>()
  let fd: number | undefined
  let lines = 0
  let admitted = 0

  const forget = (nowSeconds: number) => {
    for (const [signature, until] of seen) if (until < nowSeconds) seen.delete(signature)
  }
  /** Rewrites the file with the live entries only, atomically (write aside, rename). */
  const compact = () => {
    if (!file) return
    if (fd !== undefined) closeSync(fd)
    const aside = `${file}.${process.pid}.tmp`
    writeFileSync(aside, [...seen].map(([signature, until]) => `${until} ${signature}\n`).join(""), { mode: 0o600 })
    renameSync(aside, file)
    fd = openSync(file, "a", 0o600)
    lines = seen.size
  }
  compact()

  return {
    admit: (signature, expiresAt, nowSeconds) => {
      const until = seen.get(signature)
      if (until !== undefined && until >= nowSeconds) return false
      seen.set(signature, expiresAt)
      if (fd !== undefined) {
        writeSync(fd, `${expiresAt} ${signature}\n`)
        lines++
      }
      // Every so many requests: forget closed windows, and shrink the file once it is mostly stale.
      if (++admitted % SWEEP_EVERY === 0) {
        forget(nowSeconds)
        if (lines > Math.max(SWEEP_EVERY, 2 * seen.size)) compact()
      }
      return true
    },
    close: () => {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
    }
  }
}
