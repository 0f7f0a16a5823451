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

/** The first bytes a connection sent, until its first request is parsed (then unknown). */
const opening = Symbol("acct/opening-bytes")
type Tracked = Duplex & { [opening]?: string | undefined }

/**
 * Whether the refused request is a HEAD, whose answer must have no body (RFC 9110 §9.3.2). The
 * parser's `rawPacket` is only the chunk it failed on, so a request whose headers came in
 * several chunks is recognised by its connection's opening bytes. (A HEAD that is not the first
 * request on its connection and arrives in pieces is not recognised: it gets the body.)
 */
const isHead = (error: NodeJS.ErrnoException, socket: Tracked) => {
  const packet = (error as { rawPacket?: Buffer }).rawPacket?.subarray(0, 8).toString("latin1") ?? ""
  const method = /^([A-Z]{3,7}) /.exec(packet)?.[1]
  return method !== undefined ? method === "HEAD" : socket[opening] === "HEAD "
}

export const answerClientErrors = (server: Server): Server =>
  server
    .on("connection", (socket: Tracked) => void socket.once("data", (chunk: Buffer) => void (socket[opening] ??= chunk.subarray(0, 5).toString("latin1"))))
    .on("request", (request: { socket: Tracked }) => void (request.socket[opening] = "served"))
    .on("clientError", (error: NodeJS.ErrnoException, socket: Tracked) => {
      // A connection the client already dropped has nobody to answer.
      if (error.code === "ECONNRESET" || !socket.writable) {
        socket.destroy()
        return
      }
      const [status, title, details] = refusal(error.code)
      const body = JSON.stringify({ errors: [{ title, details }] })
      // An answer to HEAD has no body (RFC 9110 §9.3.2), only the headers a GET would get.
      const head = isHead(error, socket)
      socket.end(
        `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Request-Id: req_${randomAlphanumeric(24)}\r\nConnection: close\r\n\r\n${head ? "" : body}`
      )
    })
