/**
 * `acct doctor` against a real acct server: each check said once, with what it saw, and the
 * exit code of the first failure.
 */
import { describe, expect, it } from "vitest"
import { serveDuringTests, workspace } from "./cli.js"

const KEY = "acct_doctor_test_key_0123456789abcdef"

describe("acct doctor", () => {
  const { acct, db } = workspace()
  const server = serveDuringTests({ ACCT_DATABASE: db, ACCT_BOOTSTRAP_KEY: KEY })
  const doctor = (key: string | undefined) => acct(["doctor", "--remote", server.url(), "--json"], undefined, { ACCT_API_KEY: key })
  const checksOf = (result: ReturnType<typeof acct>) => result.json().checks as ReadonlyArray<{ check: string; ok: boolean; detail: string }>

  it("passes every check with a key the server accepts", () => {
    const result = doctor(KEY)
    expect(result.code).toBe(0)
    expect(checksOf(result).map((c) => [c.check, c.ok])).toEqual([["profile", true], ["reachable", true], ["credentials", true], ["version", true], ["rate limit", true]])
  })

  it("without a key: the credentials fail once (exit 5), and the version the server reports is still known", () => {
    const result = doctor(undefined)
    expect(result.code).toBe(5)
    const checks = checksOf(result)
    expect(checks.filter((c) => c.check === "credentials")).toEqual([{ check: "credentials", ok: false, detail: "no API key (set ACCT_API_KEY)" }])
    expect(checks.find((c) => c.check === "version")).toMatchObject({ ok: true, detail: expect.stringMatching(/^acct \d+\.\d+\.\d+/) })
  })

  it("with a key the server refuses: credentials fail (exit 5), reachability and version still reported", () => {
    const result = doctor("acct_not_a_key_of_this_server_0123456789")
    expect(result.code).toBe(5)
    const checks = checksOf(result)
    expect(checks.map((c) => [c.check, c.ok])).toEqual([["profile", true], ["reachable", true], ["credentials", false], ["version", true], ["rate limit", true]])
    expect(checks.find((c) => c.check === "credentials")!.detail).toContain("refused (401)")
  })
})
