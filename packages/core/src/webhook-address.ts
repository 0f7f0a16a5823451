/**
 * Where a webhook may be sent (the SSRF guard's rules, pure; the network checks in
 * @acct/webhooks apply them when an endpoint is saved and again at every connection):
 *
 * - the URL is `https`, or `http` for a host listed in ACCT_WEBHOOK_ALLOWED_HOSTS;
 * - no credentials in the URL;
 * - every address the host resolves to is public: loopback, private (RFC 1918, CGNAT, IPv6
 *   unique-local), link-local (cloud metadata services live at 169.254.169.254), unspecified,
 *   multicast and reserved ranges are refused unless the URL's host is listed.
 */
import { Either } from "effect"

export type AddressKind = "public" | "loopback" | "private" | "link-local" | "unspecified" | "multicast" | "reserved"

const v4 = (text: string): ReadonlyArray<number> | undefined => {
  const parts = text.split(".")
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined
  return parts.map(Number)
}

const classifyV4 = ([a, b]: ReadonlyArray<number>): AddressKind => {
  if (a === 0) return "unspecified"
  if (a === 127) return "loopback"
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168) || (a === 100 && b! >= 64 && b! <= 127)) return "private"
  if (a === 169 && b === 254) return "link-local"
  if (a! >= 224 && a! <= 239) return "multicast"
  if (a! >= 240 || (a === 198 && (b === 18 || b === 19)) || (a === 192 && b === 0)) return "reserved"
  return "public"
}

/** The 8 groups of an IPv6 address (with an embedded IPv4 tail expanded), or undefined. */
const v6 = (text: string): ReadonlyArray<number> | undefined => {
  let address = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase()
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)
  if (tail) {
    const four = v4(tail[1]!)
    if (!four) return undefined
    address = `${address.slice(0, -tail[1]!.length)}${((four[0]! << 8) | four[1]!).toString(16)}:${((four[2]! << 8) | four[3]!).toString(16)}`
  }
  const halves = address.split("::")
  if (halves.length > 2) return undefined
  const groups = (s: string) => (s === "" ? [] : s.split(":"))
  const head = groups(halves[0]!)
  const rest = halves.length === 2 ? groups(halves[1]!) : []
  const missing = 8 - head.length - rest.length
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest]
  if (all.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined
  return all.map((g) => parseInt(g, 16))
}

/** What kind of address `ip` is (IPv4 or IPv6 text); "reserved" for text that is neither. */
export const classifyAddress = (ip: string): AddressKind => {
  const four = v4(ip)
  if (four) return classifyV4(four)
  const g = v6(ip)
  if (!g) return "reserved"
  if (g.every((x) => x === 0)) return "unspecified"
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback"
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible and NAT64 (64:ff9b::/96) carry an IPv4 address.
  const embedded = [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255]
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return classifyV4(embedded)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return classifyV4(embedded)
  if ((g[0]! & 0xfe00) === 0xfc00) return "private"
  if ((g[0]! & 0xffc0) === 0xfe80) return "link-local"
  if ((g[0]! & 0xff00) === 0xff00) return "multicast"
  return "public"
}

/** Hosts (names or addresses, as in a URL) the operator allows: ACCT_WEBHOOK_ALLOWED_HOSTS. */
export const parseAllowedHosts = (text: string | undefined): ReadonlySet<string> =>
  new Set((text ?? "").split(",").map((h) => h.trim().toLowerCase().replace(/^\[|\]$/g, "")).filter((h) => h !== ""))

const hostOf = (url: URL) => url.hostname.toLowerCase().replace(/^\[|\]$/g, "")

/** The URL a webhook may be sent to, or a sentence saying why not (before any DNS lookup). */
export const checkWebhookUrl = (text: string, allowed: ReadonlySet<string>): Either.Either<URL, string> => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return Either.left(`url: expected an absolute https URL, got ${JSON.stringify(text.slice(0, 200))}`)
  }
  const listed = allowed.has(hostOf(url))
  if (url.protocol !== "https:" && !(url.protocol === "http:" && listed)) {
    return Either.left(
      url.protocol === "http:"
        ? `url: must use https (http only for hosts listed in ACCT_WEBHOOK_ALLOWED_HOSTS; ${url.hostname} is not)`
        : `url: must use https, got ${url.protocol.replace(/:$/, "")}`
    )
  }
  if (url.username !== "" || url.password !== "") return Either.left("url: must not contain a user name or password (send credentials another way)")
  if (text.length > 2048) return Either.left(`url: at most 2,048 characters, got ${text.length}`)
  const literal = classifyAddress(hostOf(url))
  if (v4(hostOf(url)) || v6(hostOf(url))) {
    if (literal !== "public" && !listed) return Either.left(addressRefusal(url.hostname, hostOf(url), literal))
  }
  return Either.right(url)
}

/** Why a connection to `address` (which `hostname` resolved to) is refused, or undefined if it may go ahead. */
export const refuseAddress = (hostname: string, address: string, allowed: ReadonlySet<string>): string | undefined => {
  const kind = classifyAddress(address)
  if (kind === "public" || allowed.has(hostname.toLowerCase().replace(/^\[|\]$/g, ""))) return undefined
  return addressRefusal(hostname, address, kind)
}

const addressRefusal = (hostname: string, address: string, kind: AddressKind) =>
  `url: ${hostname} resolves to ${address}, a ${kind} address; webhooks go to public addresses only (list the host in ACCT_WEBHOOK_ALLOWED_HOSTS to allow it)`
