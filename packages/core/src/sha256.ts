/**
 * SHA-256 (FIPS 180-4) over UTF-8 text or bytes, in plain TypeScript: core stays free of platform
 * imports (node:crypto) and synchronous (Web Crypto's digest is async). Used for idempotency
 * fingerprints and webhook signatures (webhook-signing.ts), where inputs are small; the output
 * equals node:crypto's digest.
 */
const primes = (count: number): Array<number> => {
  const out: Array<number> = []
  for (let n = 2; out.length < count; n++) if (out.every((p) => n % p !== 0)) out.push(n)
  return out
}
/** The first 32 bits of the fractional part of `x`. */
const fraction32 = (x: number) => Math.floor((x - Math.floor(x)) * 0x100000000) >>> 0

const K = Uint32Array.from(primes(64), (p) => fraction32(Math.cbrt(p)))
const H0 = Uint32Array.from(primes(8), (p) => fraction32(Math.sqrt(p)))

const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n))

/** The SHA-256 digest of `bytes` (32 bytes). */
export const sha256Bytes = (bytes: Uint8Array): Uint8Array => {
  const padded = new Uint8Array(((bytes.length + 9 + 63) >> 6) << 6)
  padded.set(bytes)
  padded[bytes.length] = 0x80
  const view = new DataView(padded.buffer)
  const bits = bytes.length * 8
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000))
  view.setUint32(padded.length - 4, bits >>> 0)
  const h = Uint32Array.from(H0)
  const w = new Uint32Array(64)
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4)
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!
      const b = w[i - 2]!
      w[i] = (w[i - 16]! + (rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3)) + w[i - 7]! + (rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10))) | 0
    }
    let [a, b, c, d, e, f, g, hh] = h as unknown as [number, number, number, number, number, number, number, number]
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0
      hh = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    h[0] = h[0]! + a
    h[1] = h[1]! + b
    h[2] = h[2]! + c
    h[3] = h[3]! + d
    h[4] = h[4]! + e
    h[5] = h[5]! + f
    h[6] = h[6]! + g
    h[7] = h[7]! + hh
  }
  const out = new Uint8Array(32)
  const outView = new DataView(out.buffer)
  h.forEach((x, i) => outView.setUint32(i * 4, x))
  return out
}

export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

export const sha256Hex = (text: string): string => toHex(sha256Bytes(new TextEncoder().encode(text)))
