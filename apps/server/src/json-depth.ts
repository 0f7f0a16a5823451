/**
 * How deeply a JSON text nests, checked before anything decodes it. JSON.parse copes with any
 * depth, but reporting a wrong shape formats the value recursively, and a body of 100,000
 * nested arrays (well under the size limit) overflowed the stack: a 500. Real account
 * documents nest a handful of levels.
 */
export const MAX_JSON_DEPTH = 64

/** Whether `text` opens more than `max` arrays or objects inside one another (strings skipped). */
export const nestsDeeperThan = (text: string, max: number): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c /* \ */) i++
      else if (c === 0x22 /* " */) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--
    }
  }
  return false
}
