import { describe, expect, it } from "@effect/vitest"
import { Duration, Either } from "effect"
import { createHmac } from "node:crypto"
import {
  checkWebhookUrl,
  classifyAddress,
  nextAttemptDelay,
  parseAllowedHosts,
  parseRetryAfter,
  parseRetrySchedule,
  personaSignature,
  refuseAddress,
  standardWebhookHeaders
} from "../src/index.js"

describe("webhook signing", () => {
  it("Persona-Signature: t=<unix>,v1=<hex HMAC of t.body>, one pair per secret", () => {
    const body = '{"data":{}}'
    const expected = (secret: string) => createHmac("sha256", secret).update(`1700000000.${body}`).digest("hex")
    expect(personaSignature(["wbhsec_a"], 1700000000, body)).toBe(`t=1700000000,v1=${expected("wbhsec_a")}`)
    expect(personaSignature(["wbhsec_a", "wbhsec_b"], 1700000000, body)).toBe(`t=1700000000,v1=${expected("wbhsec_a")} t=1700000000,v1=${expected("wbhsec_b")}`)
    // A key longer than the hash's block, a long non-ASCII body: still node:crypto's HMAC.
    const long = "é✓".repeat(1000)
    expect(personaSignature(["k".repeat(100)], 1, long)).toBe(`t=1,v1=${createHmac("sha256", "k".repeat(100)).update(`1.${long}`).digest("hex")}`)
  })

  it("Standard Webhooks: base64 HMAC of id.timestamp.body keyed with the secret's bytes", () => {
    const headers = standardWebhookHeaders(["wbhsec_a", "wbhsec_b"], "evt_1", 1700000000, "{}")
    const sig = (secret: string) => createHmac("sha256", secret).update("evt_1.1700000000.{}").digest("base64")
    expect(headers).toEqual({ "webhook-id": "evt_1", "webhook-timestamp": "1700000000", "webhook-signature": `v1,${sig("wbhsec_a")} v1,${sig("wbhsec_b")}` })
  })
})

describe("webhook retry schedule", () => {
  it("parses the default and custom schedules, and names a bad entry", () => {
    expect(Either.getOrThrow(parseRetrySchedule("0s,5s,5m,30m,2h,5h,10h,14h,20h,24h")).map(Duration.toMillis)).toEqual([0, 5000, 300000, 1800000, 7200000, 18000000, 36000000, 50400000, 72000000, 86400000])
    expect(Either.getOrThrow(parseRetrySchedule("0s, 1.5s,250ms,1d")).map(Duration.toMillis)).toEqual([0, 1500, 250, 86400000])
    expect(parseRetrySchedule("0s,5 minutes")).toEqual(
      Either.left('ACCT_WEBHOOK_RETRY_SCHEDULE: entry 2: expected a number and a unit (ms, s, m, h, d), e.g. 0s,5s,5m,30m; got "5 minutes"')
    )
    expect(parseRetrySchedule("")).toEqual(Either.left(expect.stringContaining('entry 1: expected a number and a unit')))
    expect(parseRetrySchedule(Array(51).fill("1s").join(","))).toEqual(Either.left("ACCT_WEBHOOK_RETRY_SCHEDULE: at most 50 attempts, got 51"))
  })

  it("jitters ±10 %, honours a longer Retry-After, and stops when the schedule is spent", () => {
    const schedule = Either.getOrThrow(parseRetrySchedule("0s,10s,100s"))
    expect(Duration.toMillis(nextAttemptDelay(schedule, 1, 0)!)).toBe(9000)
    expect(Duration.toMillis(nextAttemptDelay(schedule, 1, 0.999999)!)).toBe(11000)
    expect(Duration.toMillis(nextAttemptDelay(schedule, 1, 0.5, Duration.seconds(60))!)).toBe(60000)
    expect(Duration.toMillis(nextAttemptDelay(schedule, 2, 0.5, Duration.seconds(1))!)).toBe(100000)
    expect(nextAttemptDelay(schedule, 3, 0.5)).toBeUndefined()
  })

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z")
    expect(Duration.toMillis(parseRetryAfter("120", now)!)).toBe(120000)
    expect(Duration.toMillis(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)!)).toBe(30000)
    expect(parseRetryAfter("soon", now)).toBeUndefined()
  })
})

describe("webhook addresses (the SSRF guard's rules)", () => {
  it("classifies IPv4 and IPv6 ranges", () => {
    const cases: Record<string, string> = {
      "8.8.8.8": "public",
      "127.0.0.1": "loopback",
      "10.1.2.3": "private",
      "172.16.0.1": "private",
      "172.32.0.1": "public",
      "192.168.1.1": "private",
      "100.64.0.1": "private",
      "169.254.169.254": "link-local",
      "0.0.0.0": "unspecified",
      "224.0.0.1": "multicast",
      "::1": "loopback",
      "::": "unspecified",
      "fd00::1": "private",
      "fe80::1%eth0": "link-local",
      "::ffff:127.0.0.1": "loopback",
      "::ffff:7f00:1": "loopback",
      "64:ff9b::a9fe:a9fe": "link-local",
      "2606:4700::1111": "public",
      "not-an-ip": "reserved"
    }
    for (const [ip, kind] of Object.entries(cases)) expect([ip, classifyAddress(ip)]).toEqual([ip, kind])
  })

  it("requires https unless the host is allowed, refuses credentials and private literals", () => {
    const none = parseAllowedHosts(undefined)
    const local = parseAllowedHosts("127.0.0.1, Hooks.Internal")
    expect(Either.isRight(checkWebhookUrl("https://example.com/hook", none))).toBe(true)
    expect(checkWebhookUrl("http://example.com/hook", none)).toEqual(Either.left(expect.stringContaining("must use https")))
    expect(checkWebhookUrl("ftp://example.com/", none)).toEqual(Either.left("url: must use https, got ftp"))
    expect(checkWebhookUrl("https://u:p@example.com/", none)).toEqual(Either.left(expect.stringContaining("user name or password")))
    expect(checkWebhookUrl("https://127.0.0.1/", none)).toEqual(Either.left(expect.stringContaining("a loopback address")))
    expect(checkWebhookUrl("https://[::ffff:169.254.169.254]/", none)).toEqual(Either.left(expect.stringContaining("link-local")))
    expect(Either.isRight(checkWebhookUrl("http://127.0.0.1:8080/", local))).toBe(true)
    expect(Either.isRight(checkWebhookUrl("http://hooks.internal/", local))).toBe(true)
    expect(checkWebhookUrl("not a url", none)).toEqual(Either.left(expect.stringContaining("expected an absolute https URL")))
  })

  it("refuses a resolved private address unless the host is listed", () => {
    expect(refuseAddress("evil.example", "10.0.0.5", parseAllowedHosts(""))).toContain("evil.example resolves to 10.0.0.5, a private address")
    expect(refuseAddress("hooks.internal", "10.0.0.5", parseAllowedHosts("hooks.internal"))).toBeUndefined()
    expect(refuseAddress("example.com", "93.184.216.34", parseAllowedHosts(""))).toBeUndefined()
  })
})

describe("attempt verdicts", () => {
  const schedule = Either.getOrThrow(parseRetrySchedule("0s,10s,100s"))
  it("2xx delivers, 410 is gone, 3xx/5xx/no answer retry, 429/503 wait for Retry-After, the schedule ends", async () => {
    const { attemptVerdict } = await import("../src/index.js")
    expect(attemptVerdict({ status: 204 }, 1, schedule, 0.5)).toEqual({ _tag: "Delivered" })
    expect(attemptVerdict({ status: 410 }, 1, schedule, 0.5)).toEqual({ _tag: "Gone" })
    expect(attemptVerdict({ status: 302 }, 1, schedule, 0.5)).toEqual({ _tag: "Retry", after: Duration.millis(10000) })
    expect(attemptVerdict(undefined, 1, schedule, 0.5)).toEqual({ _tag: "Retry", after: Duration.millis(10000) })
    expect(attemptVerdict({ status: 429, retryAfter: Duration.seconds(30) }, 1, schedule, 0.5)).toEqual({ _tag: "Retry", after: Duration.seconds(30) })
    expect(attemptVerdict({ status: 500, retryAfter: Duration.seconds(30) }, 1, schedule, 0.5)).toEqual({ _tag: "Retry", after: Duration.millis(10000) })
    expect(attemptVerdict({ status: 500 }, 3, schedule, 0.5)).toMatchObject({ _tag: "GiveUp" })
  })
})
