/**
 * A webhook receiver on loopback for tests: records every request, answers as told, and checks
 * both signature schemes — Standard Webhooks with the `standardwebhooks` package, Persona's
 * with the check a Persona receiver writes itself (below).
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Webhook } from "standardwebhooks"

export interface Received {
  readonly headers: Record<string, string>
  readonly body: string
  readonly json: { data: { id: string; type: string; attributes: { name: string; payload: { data: { id: string; type: string; attributes: Record<string, unknown> } }; context: Record<string, unknown> } } }
  readonly at: number
}

/** What to do with a request: answer a status (and headers, body; after `delayMs`), hang, or drop the connection. */
export type Behaviour = { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string; readonly delayMs?: number } | "hang" | "close"

/** Persona's scheme, as its docs tell a receiver to check it: any `t=…,v1=…` pair matching. */
export const personaSignatureValid = (header: string | undefined, secret: string, body: string): boolean => {
  if (!header) return false
  return header.split(" ").some((pair) => {
    const parts = Object.fromEntries(pair.split(",").map((kv) => kv.split("=") as [string, string]))
    if (!parts.t || !parts.v1) return false
    const expected = createHmac("sha256", secret).update(`${parts.t}.${body}`).digest()
    const given = Buffer.from(parts.v1, "hex")
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}

export const standardWebhookValid = (headers: Record<string, string>, secret: string, body: string): boolean => {
  try {
    new Webhook(secret, { format: "raw" }).verify(body, headers)
    return true
  } catch {
    return false
  }
}

export const startReceiver = async (behave: (request: { readonly count: number; readonly url: string }) => Behaviour = () => ({ status: 200 })) => {
  const received: Array<Received> = []
  const waiters: Array<() => void> = []
  let count = 0
  const hanging = new Set<ServerResponse>()
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = ""
    request.setEncoding("utf8")
    request.on("data", (chunk: string) => (body += chunk))
    request.on("end", () => {
      const what = behave({ count: ++count, url: request.url ?? "/" })
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : (v ?? "")]))
      let json: Received["json"] | undefined
      try {
        json = JSON.parse(body)
      } catch {
        json = undefined
      }
      received.push({ headers, body, json: json!, at: Date.now() })
      for (const w of waiters.splice(0)) w()
      if (what === "hang") return void hanging.add(response)
      if (what === "close") return void request.socket.destroy()
      const answer = () => {
        response.writeHead(what.status, what.headers ?? {})
        response.end(what.body ?? "")
      }
      if (what.delayMs === undefined) return answer()
      hanging.add(response)
      setTimeout(answer, what.delayMs)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  /** Resolves once `predicate` holds for what was received (checked at each request), or fails after `ms`. */
  const until = (predicate: (all: ReadonlyArray<Received>) => boolean, ms = 20_000) =>
    new Promise<ReadonlyArray<Received>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver: condition not met within ${ms} ms; received ${received.length}: ${received.map((r) => r.json?.data?.attributes?.name).join(", ")}`)), ms)
      const check = () => {
        if (predicate(received)) {
          clearTimeout(timer)
          resolve(received)
        } else waiters.push(check)
      }
      check()
    })
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    until,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
