/**
 * Whether output may carry ANSI colour: the NO_COLOR / FORCE_COLOR conventions, else only when
 * the stream is a terminal (so `acct --help | less`, files and scripts get plain text).
 */
export interface Style {
  readonly bold: (text: string) => string
}

const set = (value: string | undefined) => value !== undefined && value !== ""

/** FORCE_COLOR (other than 0/false) forces colour; NO_COLOR turns it off; else a terminal gets it. */
export const colourFor = (stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean => {
  if (set(env.FORCE_COLOR)) return env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false"
  if (set(env.NO_COLOR)) return false
  return stream.isTTY === true
}

export const styleFor = (colour: boolean): Style => ({
  bold: (text) => (colour ? `\u001b[1m${text}\u001b[22m` : text)
})
