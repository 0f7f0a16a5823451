/**
 * Input that once hung a request or answered wrongly: content types (JSON:API's own type hung
 * with any body, multipart hung or was a 500, Idempotency-Key + empty body + a non-JSON type
 * hung), Authorization spellings (`Digest <key>` authenticated), a chunked body over the limit
 * (reset instead of a 413), and a HEAD refused by Node's parser (answered with a body).
 */
import { createServer, request } from "node:http"
import { connect } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { answerClientErrors } from "../src/client-errors.js"
import { startServer } from "./harness.js"

let server: Awaited<ReturnType<typeof startServer>>
let jane = ""
beforeAll(async () => {
  server = await startServer()
  jane = (await server.call("GET", "/api/v1/accounts?filter%5Breference-id%5D=abc-123")).json.data[0].id
})
afterAll(() => server.close())

/** A request with a deadline: a hang fails the test instead of stalling it. */
const within = async <A>(ms: number, what: string, promise: Promise<A>): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

describe("content type × body × Idempotency-Key", () => {
  const types = [undefined, "application/json", "application/vnd.api+json", "application/json; charset=utf-8", "application/xml", "text/plain", "multipart/form-data; boundary=x", "multipart/form-data", "application/x-www-form-urlencoded"]
  const isJson = (type: string | undefined) => type !== undefined && /^application\/(json|vnd\.api\+json)\b/.test(type)
  const bodies = { empty: "", valid: JSON.stringify({ meta: { "tag-name": "matrix" } }), garbage: "not json at all" }
  const routes = () => [`/api/v1/accounts/${jane}/add-tag`, `/api/v1/accounts/${jane}/run-action`, "/api/v1/accounts", `/v1/accounts/accounts/${jane}/enable`]

  it("answers every cell within a second, never with a 5xx, and 415 for a body that is not JSON", async () => {
    let n = 0
    for (const url of routes()) {
      for (const type of types) {
        for (const [bodyName, body] of Object.entries(bodies)) {
          for (const key of [undefined, `matrix-${n}`]) {
            n++
            const headers: Record<string, string> = {}
            if (type !== undefined) headers["content-type"] = type
            if (key !== undefined) headers["idempotency-key"] = key
            const cell = `${url} ${type ?? "(no type)"} ${bodyName} body ${key ? "with" : "without"} key`
            const answer = await within(1000, cell, server.call("POST", url, { raw: body, headers }))
            expect(answer.status, `${cell}: ${answer.text}`).toBeLessThan(500)
            expect(answer.headers.get("request-id"), cell).toMatch(/^req_/)
            expect(answer.json, `${cell}: a JSON body`).toBeDefined()
            if (body !== "" && !isJson(type)) expect(answer.status, cell).toBe(415)
          }
        }
      }
    }
    expect(n).toBe(routes().length * types.length * 3 * 2)
  })

  it("takes JSON:API's own media type like JSON", async () => {
    const answer = await server.call("POST", `/api/v1/accounts/${jane}/add-tag`, {
      raw: JSON.stringify({ meta: { "tag-name": "jsonapi" } }),
      headers: { "content-type": "application/vnd.api+json", "idempotency-key": "jsonapi-1" }
    })
    expect(answer.status, answer.text).toBe(200)
    expect(answer.json.data.attributes.tags).toContain("jsonapi")
  })

  it("says which type it wants", async () => {
    const answer = await server.call("POST", `/api/v1/accounts/${jane}/add-tag`, { raw: "<tag/>", headers: { "content-type": "application/xml" } })
    expect(answer.status).toBe(415)
    expect(answer.json.errors[0]).toEqual({ title: "Unsupported Media Type", details: 'the request body must be JSON (Content-Type: application/json or application/vnd.api+json), got "application/xml"' })
  })
})

describe("Authorization: exactly `Bearer <key>`", () => {
  it("accepts the scheme in any case, and nothing but the scheme before the key", async () => {
    const get = (authorization: string) => server.call("GET", "/api/v1/accounts", { key: null, headers: { authorization } })
    for (const good of [`Bearer ${server.admin}`, `bearer ${server.admin}`, `BEARER ${server.admin}`, `Bearer  ${server.admin}`]) {
      expect((await get(good)).status, good.split(" ")[0]).toBe(200)
    }
    for (const bad of [`Digest ${server.admin}`, `zzzzzzz${server.admin}`, `Bearer${server.admin}`, `Basic ${server.admin}`, `Bearer ${server.admin} extra`, `Bearer ${server.admin},x`, server.admin]) {
      const answer = await get(bad)
      expect(answer.status, bad.slice(0, 12)).toBe(401)
      expect(answer.json.errors[0].title).toBe("Token is invalid")
    }
    expect((await server.call("GET", "/v1/accounts/accounts", { key: null, headers: { authorization: `Digest ${server.admin}` } })).status).toBe(401)
  })
})

describe("a chunked body over the limit", () => {
  it("is answered 413 with the JSON error body, not reset", async () => {
    const url = new URL(`${server.base}/api/v1/accounts/${jane}/add-tag`)
    const answer = await within(5000, "chunked upload", new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { authorization: `Bearer ${server.admin}`, "content-type": "application/json", "transfer-encoding": "chunked" } }, (res) => {
        let text = ""
        res.on("data", (chunk) => (text += chunk)).on("end", () => resolve({ status: res.statusCode ?? 0, text }))
      })
      req.on("error", reject)
      // 100 KB in 1 KB chunks, over this server's 64 KB limit.
      for (let i = 0; i < 100; i++) req.write("x".repeat(1024))
      req.end()
    }))
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.text).errors[0].title).toBe("Payload Too Large")
  })
})

describe("HEAD refused by Node's parser", () => {
  const node = answerClientErrors(createServer(() => undefined))
  let port = 0
  beforeAll(() => new Promise<void>((resolve) => node.listen(0, "127.0.0.1", () => resolve())))
  beforeAll(() => void (port = (node.address() as { port: number }).port))
  afterAll(() => new Promise<void>((resolve) => node.close(() => resolve())))

  const send = (chunks: ReadonlyArray<string>) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", async () => {
        for (const chunk of chunks) {
          socket.write(chunk)
          await new Promise((r) => setTimeout(r, 2))
        }
      })
      let answer = ""
      socket.on("data", (chunk) => (answer += chunk))
      socket.on("close", () => resolve(answer))
      socket.on("error", (e) => ((e as NodeJS.ErrnoException).code === "ECONNRESET" ? resolve(answer) : reject(e)))
    })

  it("answers 431 with headers only, however the request arrived", async () => {
    const head = `HEAD /api/v1/accounts HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`
    for (const chunks of [[head], head.match(/[\s\S]{1,1000}/g)!]) {
      const answer = await send(chunks)
      expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 431 Request Header Fields Too Large")
      expect(answer).toMatch(/\r\nRequest-Id: req_/)
      expect(answer.endsWith("\r\n\r\n"), answer).toBe(true)
    }
    const get = await send([head.replace("HEAD", "GET")])
    expect(get).toContain('"title":"Request Header Fields Too Large"')
  })
})
