/** The progress bar of long commands (`bulk`, `import`): one line on stderr, redrawn in place. */

export const progressLine = (done: number, total: number, failed: number, startedAt: number) => {
  const width = 24
  const filled = Math.min(width, Math.round((done / Math.max(total, 1)) * width))
  const elapsed = (Date.now() - startedAt) / 1000
  const rate = done / Math.max(elapsed, 0.001)
  const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0
  return `\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total}  failed ${failed}  ${rate.toFixed(1)}/s  ETA ${eta}s `
}
