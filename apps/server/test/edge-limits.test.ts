/**
 * Limits at the edge that once answered without the JSON error body, or with a 500: requests
 * Node's HTTP parser refuses itself, and bodies that nest too deeply to describe.
 */
import { createServer } from "node:http"
import { connect } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { answerClientErrors } from "../src/client-errors.js"
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../src/json-depth.js"
import { startServer } from "./harness.js"

/** Sends raw bytes and returns everything the server writes back before closing. */
const raw = (port: number, bytes: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes))
    let answer = ""
    socket.on("data", (chunk) => (answer += chunk))
    socket.on("end", () => resolve(answer))
    socket.on("error", reject)
  })

describe("requests Node refuses before the service sees them", () => {
  const server = answerClientErrors(createServer(() => undefined))
  let port = 0
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve())))
  beforeAll(() => void (port = (server.address() as { port: number }).port))
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const parse = (answer: string) => {
    const [head, body] = answer.split("\r\n\r\n")
    return { statusLine: head!.split("\r\n")[0], head: head!, body: JSON.parse(body!) as unknown }
  }

  it("answers headers over 16 KB with 431, a JSON error body and a request id", async () => {
    const answer = parse(await raw(port, `GET /api/v1/accounts HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`))
    expect(answer.statusLine).toBe("HTTP/1.1 431 Request Header Fields Too Large")
    expect(answer.head).toMatch(/\r\nRequest-Id: req_[A-Za-z0-9]{24}\r\n/)
    expect(answer.body).toEqual({ errors: [{ title: "Request Header Fields Too Large", details: "the request line and headers together exceed 16 KB" }] })
  })

  it("answers malformed HTTP with 400 and a JSON error body", async () => {
    const answer = parse(await raw(port, "HELLO THERE\r\n\r\n"))
    expect(answer.statusLine).toBe("HTTP/1.1 400 Bad Request")
    expect(answer.body).toEqual({ errors: [{ title: "Bad Request", details: "the request is not valid HTTP/1.1" }] })
  })
})

describe("JSON nesting", () => {
  it("counts arrays and objects, not brackets inside strings", () => {
    expect(nestsDeeperThan('{"a":[{"b":[1]}]}', 4)).toBe(false)
    expect(nestsDeeperThan('{"a":[{"b":[[1]]}]}', 4)).toBe(true)
    expect(nestsDeeperThan(JSON.stringify({ text: "[[[[[[{{{{{\\\"[[[[" }), 1)).toBe(false)
  })

  describe("through the service", () => {
    let server: Awaited<ReturnType<typeof startServer>>
    beforeAll(async () => void (server = await startServer()))
    afterAll(() => server.close())

    it("refuses a body nested deeper than the limit with a 400 that says so (it was a 500)", async () => {
      const accounts = await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")
      const id = accounts.json.data[0].id as string
      // 30,000 levels: within this server's 64 KB body limit, and deep enough to overflow the stack.
      const deep = "[".repeat(30_000) + "]".repeat(30_000)
      for (const url of [`/api/v1/accounts/${id}/run-action`, `/v1/accounts/accounts/${id}/enable`]) {
        const answer = await server.call("POST", url, { raw: deep, headers: { "content-type": "application/json" } })
        expect(answer.status).toBe(400)
        expect(answer.text).toContain(`more than ${MAX_JSON_DEPTH} levels deep`)
      }
      // A real document, well within the limit, still goes through.
      const ok = await server.call("PATCH", `/api/v1/accounts/${id}`, { body: { data: { attributes: { fields: { address: { street_1: "1 Main St", city: "Oakland" } } } } } })
      expect(ok.status).toBe(200)
    })
  })
})
