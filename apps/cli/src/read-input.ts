/**
 * Reads a file the user names (or standard input as `-`) with a size limit. `readFileSync`
 * has none: `--ids /dev/zero`, or a producer that never stops writing to stdin, kept it reading
 * until the process ran out of memory. Past the limit the command stops with a clear message.
 */
import { closeSync, openSync, readSync } from "node:fs"

export class InputTooLarge extends Error {
  constructor(readonly limitBytes: number) {
    super(`larger than ${limitBytes / (1024 * 1024)} MB`)
  }
}

const CHUNK = 64 * 1024

export const readInput = (file: string, limitBytes: number): string => {
  const fd = file === "-" ? 0 : openSync(file, "r")
  try {
    const chunks: Array<Buffer> = []
    let total = 0
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK)
      const read = readSync(fd, chunk, 0, CHUNK, null)
      if (read === 0) break
      total += read
      if (total > limitBytes) throw new InputTooLarge(limitBytes)
      chunks.push(chunk.subarray(0, read))
    }
    return Buffer.concat(chunks).toString("utf8")
  } finally {
    if (fd !== 0) closeSync(fd)
  }
}
