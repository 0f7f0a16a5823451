/**
 * The port listens before the whole app is built (on Postgres: migrations, the start-up lock, the
 * first seeding take about a second), and the platform attaches its request handler only at the
 * end; after a shutdown it detaches it before the last connections close. A request arriving
 * while no handler is attached would get no answer at all: this one answers it 503 with
 * `Retry-After` and `Connection: close`. It does nothing while the platform's handler is there.
 */
import { randomAlphanumeric } from "@acct/core"
import type { IncomingMessage, Server, ServerResponse } from "node:http"

const BODY = JSON.stringify({ errors: [{ title: "Service unavailable", details: "the service is starting or stopping; retry in a moment" }] })

export const answerWhileUnattached = (server: Server): Server => {
  // The listeners there before the platform's: the ones already attached, and this one.
  const ours = server.listenerCount("request") + 1
  const gate = (request: IncomingMessage, response: ServerResponse) => {
    if (server.listenerCount("request") > ours) return
    request.resume()
    response.writeHead(503, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(BODY),
      "retry-after": "1",
      "request-id": `req_${randomAlphanumeric(24)}`,
      connection: "close"
    })
    response.end(BODY)
  }
  return server.on("request", gate)
}
