/**
 * Requests Node's HTTP parser refuses before the service sees them (a request line and headers
 * over Node's 16 KB limit, malformed HTTP, a client too slow to send its headers). By default
 * Node answers those with a bare status line; this gives them the same error body and
 * `Request-Id` as every other answer, in the format of the surface the request line names:
 * RFC 7807 problem details (with the request id as `traceId`) for SoftwareOne's `/v1/…` and
 * `/public/v1/…`, Persona's `{"errors":[…]}` otherwise (also when no request line can be read).
 */
import { SoftwareOneErrors } from "@acct/api"
import { randomAlphanumeric } from "@acct/core"
import type { Server } from "node:http"
import type { Duplex } from "node:stream"
import { isSoftwareOnePath } from "./error-body.js"

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

/** The first bytes a connection sent, until its first request is parsed (then "served"). */
const opening = Symbol("acct/opening-bytes")
type Tracked = Duplex & { [opening]?: string | undefined }

/** Enough of a request line for its method and the start of its path. */
const OPENING_BYTES = 64

/**
 * The refused request's method and path. The parser's `rawPacket` is only the chunk it failed
 * on, so a request whose headers came in several chunks is recognised by its connection's
 * opening bytes. (A request that is not the first on its connection and arrives in pieces is
 * not recognised: it gets Persona's format, and a body even if it is a HEAD.)
 */
const requestLine = (error: NodeJS.ErrnoException, socket: Tracked) => {
  const line = /^([A-Z]{3,7}) (\S*)/
  const packet = (error as { rawPacket?: Buffer }).rawPacket?.subarray(0, OPENING_BYTES).toString("latin1") ?? ""
  const [, method, path] = line.exec(packet) ?? line.exec(socket[opening] ?? "") ?? []
  return { method, path: path ?? "" }
}

export const answerClientErrors = (server: Server): Server =>
  server
    .on("connection", (socket: Tracked) => void socket.once("data", (chunk: Buffer) => void (socket[opening] ??= chunk.subarray(0, OPENING_BYTES).toString("latin1"))))
    .on("request", (request: { socket: Tracked }) => void (request.socket[opening] = "served"))
    .on("clientError", (error: NodeJS.ErrnoException, socket: Tracked) => {
      // A connection the client already dropped has nobody to answer.
      if (error.code === "ECONNRESET" || !socket.writable) {
        socket.destroy()
        return
      }
      const [status, title, details] = refusal(error.code)
      const id = `req_${randomAlphanumeric(24)}`
      const { method, path } = requestLine(error, socket)
      const problem = isSoftwareOnePath(path)
      const body = JSON.stringify(problem ? SoftwareOneErrors.problemBody(status, title, details, id) : { errors: [{ title, details }] })
      // An answer to HEAD has no body (RFC 9110 §9.3.2), only the headers a GET would get.
      socket.end(
        `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${problem ? "application/problem+json" : "application/json"}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Request-Id: ${id}\r\nConnection: close\r\n\r\n${method === "HEAD" ? "" : body}`
      )
    })
