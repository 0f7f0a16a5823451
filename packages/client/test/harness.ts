/** A real acct server (the built one, as a subprocess), and a fault-injecting proxy in front of it speaking plain HTTP. */
import { spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { createServer, request as forward, type IncomingHttpHeaders, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"

const SERVER = fileURLToPath(new URL("../../../apps/server/dist/server.mjs", import.meta.url))

/** The built server on a fresh SQLite file with the demo data, and an admin key. */
export const startAcct = async (env: Record<string, string> = {}) => {
  const database = path.join(mkdtempSync(path.join(tmpdir(), "acct-client-")), "acct.db")
  const apiKey = `acct_client_tests_${Math.random().toString(36).slice(2)}_0000000000`
  const server = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ACCT_DATABASE: database, ACCT_BOOTSTRAP_KEY: apiKey, ACCT_RATE_LIMIT: "100000", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let log = ""
  const port = await new Promise<number>((resolve, reject) => {
    // Keep reading (a full pipe would stall the server), but keep only the start-up lines.
    const onData = (chunk: Buffer) => {
      if (log.length > 100_000) return
      log += chunk
      const found = /Listening on http:\/\/[\d.]+:(\d+)/.exec(log)
      if (found) resolve(Number(found[1]))
    }
    server.stdout!.on("data", onData)
    server.stderr!.on("data", onData)
    server.once("exit", (code) => reject(new Error(`the server exited (${code}): ${log}`)))
    setTimeout(() => reject(new Error(`the server did not start: ${log}`)), 20_000)
  })
  const close = () =>
    new Promise<void>((resolve) => {
      server.once("exit", () => resolve())
      server.kill("SIGTERM")
    })
  return { url: `http://127.0.0.1:${port}`, port, apiKey, close }
}

/**
 * What the proxy does with request number n (1-based): pass it through, answer with a status
 * (and headers) without forwarding, reset the connection before forwarding, forward and then
 * reset instead of answering (the server did the work, the client never hears), delay, or let
 * another request in between the server's answer and the client hearing it.
 */
export type Fault =
  | { readonly kind: "pass" }
  | { readonly kind: "status"; readonly status: number; readonly headers?: Record<string, string> }
  /** Answer with exactly this body (e.g. a malformed one). */
  | { readonly kind: "raw"; readonly status: number; readonly body: string }
  | { readonly kind: "reset" }
  | { readonly kind: "reset-after-forward" }
  | { readonly kind: "delay"; readonly ms: number }
  /** Forward, then let `meanwhile` run (someone else's request) before the answer reaches the client. */
  | { readonly kind: "interleave"; readonly meanwhile: () => Promise<unknown> }

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
            const reply = () => res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(body))
            if (fault.kind === "interleave") return void fault.meanwhile().then(reply, () => res.writeHead(502).end())
            reply()
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
