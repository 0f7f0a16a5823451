/** A real acct server, and a fault-injecting proxy in front of it speaking plain HTTP. */
import { ApiKeys } from "@acct/core"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { appLayer } from "@acct/server/app"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Option } from "effect"
import { mkdtempSync } from "node:fs"
import { createServer, request as forward, type IncomingHttpHeaders, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"

export const startAcct = async () => {
  const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-client-")), "acct.db")
  const layer = appLayer({ port: 0, host: "127.0.0.1", database, bootstrapKey: Option.none(), seedDemo: true, maxBodyBytes: 1 << 20, rateLimit: 100_000, idempotencyStaleSeconds: 30, dbPoolSize: 10, dbStatementTimeoutMs: 5000 }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(Logger.minimumLogLevel(LogLevel.Warning))
  )
  const runtime = ManagedRuntime.make(layer)
  const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
  if (address._tag !== "TcpAddress") throw new Error("expected TCP")
  const key = await runtime.runPromise(Effect.flatMap(ApiKeys, (k) => k.create({ name: "client tests", scopes: ["admin"] })))
  return { url: `http://127.0.0.1:${address.port}`, port: address.port, apiKey: key.secret, close: () => runtime.dispose() }
}

/**
 * What the proxy does with request number n (1-based): pass it through, answer with a status
 * (and headers) without forwarding, reset the connection before forwarding, forward and then
 * reset instead of answering (the server did the work, the client never hears), or delay.
 */
export type Fault =
  | { readonly kind: "pass" }
  | { readonly kind: "status"; readonly status: number; readonly headers?: Record<string, string> }
  /** Answer with exactly this body (e.g. a malformed one). */
  | { readonly kind: "raw"; readonly status: number; readonly body: string }
  | { readonly kind: "reset" }
  | { readonly kind: "reset-after-forward" }
  | { readonly kind: "delay"; readonly ms: number }

export interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  /** The request body, once read. */
  body: string
}

export const startProxy = async (targetPort: number, plan: (n: number, seen: Seen) => Fault) => {
  const seen: Array<Seen> = []
  const server: Server = createServer((req, res) => {
    const entry: Seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: "" }
    seen.push(entry)
    const fault = plan(seen.length, entry)
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      entry.body = Buffer.concat(chunks).toString("utf8")
      if (fault.kind === "raw") return void res.writeHead(fault.status, { "content-type": "application/json" }).end(fault.body)
      if (fault.kind === "status") {
        const body = JSON.stringify({ errors: [{ title: "Injected", details: `injected ${fault.status}` }] })
        res.writeHead(fault.status, { "content-type": "application/json", ...fault.headers }).end(body)
        return
      }
      if (fault.kind === "reset") return req.socket.destroy()
      const send = () => {
        const upstream = forward({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          const body: Array<Buffer> = []
          answer.on("data", (c: Buffer) => body.push(c))
          answer.on("end", () => {
            if (fault.kind === "reset-after-forward") return req.socket.destroy()
            res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(body))
          })
        })
        upstream.on("error", () => res.writeHead(502).end())
        upstream.end(Buffer.concat(chunks))
      }
      if (fault.kind === "delay") setTimeout(send, fault.ms)
      else send()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}
