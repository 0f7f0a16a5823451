/**
 * Fake upstreams on loopback ports, speaking the wire formats of their specs (not acct's): a
 * SoftwareOne Marketplace and a Persona, each with a log of the requests it received. Shared by
 * the server's gateway tests and the CLI's tests of upstream profiles.
 */
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"

/** A fake upstream listening on a loopback port: its base URL (with `basePath`) and how to stop it. */
export const listenOnLoopback = async (server: Server, basePath = "") => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${basePath}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

/**
 * A SoftwareOne Marketplace as its spec describes it, not acct: accounts with SoftwareOne's own
 * types and states (no `$meta.accountStatus`), read one at a time or a page (offset, limit), its
 * lifecycle rules, problem details on a 400, and a log of every request it received.
 */
export const startSoftwareOne = async (token: string) => {
  const accounts = new Map<string, { id: string; name: string; externalId: string | null; type: string; status: string }>([
    ["ACC-1234-5678", { id: "ACC-1234-5678", name: "Northwind Traders", externalId: "nw-1", type: "Vendor", status: "Active" }],
    ["ACC-2222-3333", { id: "ACC-2222-3333", name: "Contoso", externalId: null, type: "Client", status: "Enabled" }]
  ])
  const received: Array<string> = []
  const wire = (a: NonNullable<ReturnType<typeof accounts.get>>) => ({
    ...a,
    href: `/accounts/accounts/${a.id}`,
    serviceLevel: "Elevated",
    website: null,
    audit: { created: { at: "2026-01-05T10:00:00.000Z", by: { id: "USR-0000-0001" } }, updated: { at: "2026-02-01T10:00:00.000Z" } }
  })
  const problem = (status: number, title: string, detail: string) => ({ type: "https://tools.ietf.org/html/rfc9110#section-15.5.1", title, status, detail, traceId: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", errors: {} })
  const server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`)
    const answer = (status: number, body: unknown) => res.writeHead(status, { "content-type": status < 400 ? "application/json" : "application/problem+json" }).end(JSON.stringify(body))
    if (req.headers.authorization !== `Bearer ${token}`) return answer(401, problem(401, "Unauthorized", "invalid token"))
    const url = new URL(req.url ?? "/", "http://marketplace")
    if (req.method === "GET" && url.pathname === "/public/v1/accounts/accounts") {
      const offset = Number(url.searchParams.get("offset") ?? 0)
      const limit = Number(url.searchParams.get("limit") ?? 10)
      return answer(200, { $meta: { pagination: { offset, limit, total: accounts.size } }, data: [...accounts.values()].slice(offset, offset + limit).map(wire) })
    }
    const match = /^\/public\/v1\/accounts\/accounts\/([^/?]+)(?:\/(enable|disable|activate|deactivate))?$/.exec(req.url ?? "")
    const account = match ? accounts.get(decodeURIComponent(match[1]!)) : undefined
    if (!account) return answer(404, problem(404, "Not Found", "Account not found."))
    if (req.method === "GET" && !match![2]) return answer(200, wire(account))
    if (req.method !== "POST" || !match![2]) return answer(405, problem(405, "Method Not Allowed", "not allowed"))
    const from: Record<string, ReadonlyArray<string>> = { enable: ["Disabled"], disable: ["Active", "Enabled"], activate: ["Enabled"], deactivate: ["Active"] }
    const operation = match![2]
    if (!from[operation]!.includes(account.status)) return answer(400, problem(400, "Bad Request", `Account ${account.id} is ${account.status}: ${operation} is not possible.`))
    account.status = operation === "disable" ? "Disabled" : operation === "deactivate" ? "Enabled" : operation === "activate" || account.externalId !== null ? "Active" : "Enabled"
    answer(200, wire(account))
  })
  return { ...(await listenOnLoopback(server)), received, statusOf: (id: string) => accounts.get(id)!.status }
}

/** The ids a fake Persona gives its records (by default, ids that fit acct's own pattern). */
export interface PersonaIds {
  readonly type: string
  readonly action: string
  readonly jane: string
  readonly wei: string
  /** The workflow run of the `n`th request. */
  readonly run: (n: number) => string
  /** The account the `n`th request creates. */
  readonly created: (n: number) => string
}
export const acctShapedIds: PersonaIds = {
  type: "acttp_7X5W5w9GMtQntE6oPtKnj44c",
  action: "accac_ZqXu9pW7Y3rKmT2vNbC4sD8e",
  jane: "act_hpNqyAbEG4HeVjZoBRNCMKkA",
  wei: "act_Vq7Bz2kRcMwX9sLpDfT4hYu1",
  run: (n) => `wfr_${String(n).padStart(4, "0")}3JqAR9ddLRVZLK5z4yD8oe`,
  created: (n) => `act_${String(n).padStart(4, "0")}Nw5AcctShapedIdXyz1`
}

/**
 * A Persona as its 2025-12-08 spec describes it, not acct: kebab-case JSON:API documents,
 * account types without any lifecycle (their statuses are `actst_…` relationships), accounts
 * created of its one type, an account action that sets the status it is given, tags, and a log
 * of every request it received.
 */
export const startPersona = async (apiKey: string, ids: PersonaIds = acctShapedIds) => {
  const TYPE = ids.type
  const ACTION = ids.action
  const accounts = new Map([
    [ids.jane, { id: ids.jane, reference: "abc-123", status: "Approved", first: "Jane", last: "Doe", tags: new Array<string>() }],
    [ids.wei, { id: ids.wei, reference: null, status: "Default", first: "Wei", last: "Chen", tags: new Array<string>() }]
  ])
  const received: Array<string> = []
  /** How `GET /workflow-runs/{id}` answers (a test may change it). */
  const runs: { answer: "as documented" | "dates acct cannot read" | "not found" } = { answer: "as documented" }
  const account = (a: NonNullable<ReturnType<typeof accounts.get>>) => ({
    type: "account",
    id: a.id,
    attributes: {
      "reference-id": a.reference,
      "account-type-name": "User",
      "created-at": "2023-09-22T17:13:49.000Z",
      "updated-at": "2023-09-23T00:22:19.000Z",
      "redacted-at": null,
      fields: { name: { type: "hash", value: { first: { type: "string", value: a.first }, last: { type: "string", value: a.last } } } },
      tags: a.tags,
      "account-status": a.status
    },
    relationships: { "account-type": { data: { type: "account-type", id: TYPE } } }
  })
  const accountType = {
    type: "account-type",
    id: TYPE,
    attributes: {
      name: "User",
      "created-at": "2022-11-09T00:22:59.828Z",
      "updated-at": "2023-02-15T23:15:06.034Z",
      "field-schemas": [
        { type: "string", key: "name_first", label: "Name First", config: { required: false, "archived-at": null, "deactivated-at": null, "max-char-length": 255, sanitize: [] } },
        { type: "date", key: "birthdate", label: "Birthdate", config: { required: false, "archived-at": null, "deactivated-at": null, "min-date": null, "max-date": null } },
        // The spec requires none of a field schema's properties.
        { type: "integer", key: "score" }
      ]
    },
    relationships: {
      "account-statuses": { data: [{ type: "account-status", id: "actst_ya9zKuezKLTfrc4WMB3vqVx4xTVP" }] },
      "default-account-status": { data: { type: "account-status", id: "actst_ya9zKuezKLTfrc4WMB3vqVx4xTVP" } }
    }
  }
  const server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`)
    let body = ""
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")))
    req.on("end", () => {
      const answer = (status: number, document: unknown) =>
        res.writeHead(status, { "content-type": "application/json", "request-id": `req_${received.length}`, "ratelimit-limit": "300", "ratelimit-remaining": "299", "ratelimit-reset": "60" }).end(JSON.stringify(document))
      const error = (status: number, title: string, details: string) => answer(status, { errors: [{ title, details }] })
      if (req.headers.authorization !== `Bearer ${apiKey}`) return error(401, "Unauthorized", "Invalid API key")
      if (req.headers["persona-version"] !== "2025-12-08") return error(400, "Bad Request", "Unsupported Persona-Version")
      const url = new URL(req.url ?? "/", "http://persona")
      const [, api, v1, collection, id, verb] = url.pathname.split("/")
      if (api !== "api" || v1 !== "v1") return error(404, "Not Found", "Record not found")
      if (collection === "account-types" && req.method === "GET") return id === TYPE ? answer(200, { data: accountType, included: [] }) : error(404, "Not Found", "Record not found")
      if (collection === "workflow-runs" && req.method === "GET") {
        if (runs.answer === "not found") return error(404, "Not Found", "Record not found")
        const [created, completed] = runs.answer === "dates acct cannot read" ? ["yesterday", "soon"] : ["2026-12-03T00:00:00.000Z", "2026-12-03T00:00:01.000Z"]
        return answer(200, { data: { type: "workflow-run", id, attributes: { status: "completed", "created-at": created, "completed-at": completed } } })
      }
      if (collection !== "accounts") return error(404, "Not Found", "Record not found")
      if (id === undefined && req.method === "GET") {
        const reference = url.searchParams.get("filter[reference-id]")
        const found = [...accounts.values()].filter((a) => reference === null || a.reference === reference)
        return answer(200, { data: found.map(account), links: { prev: null, next: null } })
      }
      if (id === undefined && req.method === "POST") {
        const attributes = (JSON.parse(body) as { data: { attributes: { "account-type-id": string; "reference-id"?: string } } }).data.attributes
        if (attributes["account-type-id"] !== TYPE) return error(404, "Not Found", "Record not found")
        const created = { id: ids.created(received.length), reference: attributes["reference-id"] ?? null, status: "Default", first: "", last: "", tags: new Array<string>() }
        accounts.set(created.id, created)
        return answer(201, { data: account(created) })
      }
      const target = accounts.get(decodeURIComponent(id ?? ""))
      if (target === undefined) return error(404, "Not Found", "Record not found")
      if (req.method === "GET" && verb === undefined) return answer(200, { data: account(target) })
      if (req.method === "POST" && verb === "run-action") {
        const run = JSON.parse(body) as { data: { "account-action-id": string; parameters?: { status?: string } } }
        if (run.data["account-action-id"] !== ACTION) return error(404, "Not Found", "Record not found")
        target.status = run.data.parameters?.status ?? target.status
        return answer(200, { data: account(target), meta: { "workflow-run-id": ids.run(received.length) } })
      }
      if (req.method === "POST" && verb === "add-tag") {
        const tag = (JSON.parse(body) as { meta: { "tag-name": string } }).meta["tag-name"]
        if (!target.tags.includes(tag)) target.tags.push(tag)
        return answer(200, { data: account(target) })
      }
      return error(404, "Not Found", "Record not found")
    })
  })
  return { ...(await listenOnLoopback(server, "/api/v1")), TYPE, ACTION, received, runs, statusOf: (id: string) => accounts.get(id)!.status, tagsOf: (id: string) => accounts.get(id)!.tags }
}

/**
 * Ids as a real Persona may give them: a dash, another length (its own spec's examples are
 * `act_ABC123`, `wfr_ABC123`). Wei's id has acct's shape; the type, action and runs do not.
 */
export const personaShapedIds: PersonaIds = {
  type: "acttp_ABC123",
  action: "accac_ABC123",
  jane: "act_hpNq-yAbEG4HeVjZoBRNCMKkA",
  wei: "act_Vq7Bz2kRcMwX9sLpDfT4hYu1",
  run: (n) => `wfr_ABC123-${n}`,
  created: (n) => `act_ABC123-${n}`
}

/** A profile's lines for the fake Persona: its one action, and its statuses mapped to acct's lifecycle. */
export const personaProfile = (persona: { readonly url: string; readonly ACTION: string }, apiKeyEnv: string): Array<string> => {
  const setStatus = (status: string) => `{ action: Set status, parameters: { status: ${status} } }`
  return [
    "provider: persona",
    `url: ${persona.url}`,
    `apiKeyEnv: ${apiKeyEnv}`,
    `actions: { Set status: ${persona.ACTION} }`,
    "states: { active: Approved, enabled: Default, disabled: Suspended }",
    `lifecycle: { enable: ${setStatus("Approved")}, disable: ${setStatus("Suspended")}, activate: ${setStatus("Approved")}, deactivate: ${setStatus("Default")} }`
  ]
}
