/** Plain-text tables for people: padded columns, long cells cut with an ellipsis. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, maxWidth = 48): string => {
  const cut = (s: string) => (s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s)
  const cells = [headers, ...rows].map((row) => row.map((c) => cut(c.replace(/\s+/g, " "))))
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)))
  const line = (row: ReadonlyArray<string>) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")
  return [line(cells[0]!), ...cells.slice(1).map(line)].join("\n")
}

/** `label: value` lines with aligned values. */
export const details = (pairs: ReadonlyArray<readonly [string, string]>): string => {
  const width = Math.max(...pairs.map(([k]) => k.length))
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join("\n")
}
