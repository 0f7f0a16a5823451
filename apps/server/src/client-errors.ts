/**
 * Requests Node's HTTP parser refuses before the service sees them (a request line and headers
 * over Node's 16 KB limit, malformed HTTP, a client too slow to send its headers). By default
 * Node answers those with a bare status line; this gives them the same JSON error body and
 * `Request-Id` as every other answer. The request never reached the API, so there is no route
 * to tell which surface's error format it wanted: Persona's, the default, is used.
 */
import { randomAlphanumeric } from "@acct/core"
import type { Server } from "node:http"
import type { Duplex } from "node:stream"

const refusal = (code: string | undefined): readonly [number, string, string] => {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return [431, "Request Header Fields Too Large", "the request line and headers together exceed 16 KB"]
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [408, "Request Timeout", "the request headers did not arrive in time"]
    default:
      return [400, "Bad Request", "the request is not valid HTTP/1.1"]
  }
}

export const answerClientErrors = (server: Server): Server =>
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A connection the client already dropped has nobody to answer.
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy()
      return
    }
    const [status, title, details] = refusal(error.code)
    const body = JSON.stringify({ errors: [{ title, details }] })
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Request-Id: req_${randomAlphanumeric(24)}\r\nConnection: close\r\n\r\n${body}`
    )
  })
