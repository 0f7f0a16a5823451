// `npm start`: the HTTP service on the embedded SQLite store (./.acct/acct.db) with the demo
// catalog, an admin key (kept in ./.acct/admin-key so restarts reuse it), and a curl to try.
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"

const port = process.env.PORT ?? "8080"
const host = process.env.HOST ?? "127.0.0.1"
const base = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`

/**
 * Is the port free? Asked before starting, because a readiness probe alone cannot tell our
 * server from another process already listening there (it would answer, and the banner would
 * describe a server that is not ours).
 */
const portProblem = () =>
  new Promise((resolve) => {
    const probe = createServer()
    probe.once("error", (error) => resolve(error))
    probe.listen({ port: Number(port), host, exclusive: true }, () => probe.close(() => resolve(null)))
  })

const problem = await portProblem()
if (problem) {
  const why = problem.code === "EADDRINUSE" ? "is already in use by another process" : `cannot be used (${problem.code ?? problem.message})`
  console.error(`npm start: port ${port} on ${host} ${why}. Stop that process, or start on another port: PORT=8081 npm start`)
  process.exit(1)
}

const keyFile = ".acct/admin-key"
mkdirSync(".acct", { recursive: true })
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
const adminKey =
  process.env.ACCT_BOOTSTRAP_KEY ??
  (existsSync(keyFile)
    ? readFileSync(keyFile, "utf8").trim()
    : `acct_${[...randomBytes(40)].map((b) => ALPHABET[b % 62]).join("")}`)
if (!process.env.ACCT_BOOTSTRAP_KEY && !existsSync(keyFile)) writeFileSync(keyFile, `${adminKey}\n`, { mode: 0o600 })

const server = spawn(process.execPath, [new URL("../apps/server/dist/server.mjs", import.meta.url).pathname], {
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, PORT: port, HOST: host, ACCT_BOOTSTRAP_KEY: adminKey }
})
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal))
let exited = false
server.on("exit", (code, signal) => {
  exited = true
  process.exit(code ?? (signal ? 1 : 0))
})

const get = async (path) => {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${adminKey}` } })
  if (!response.ok) throw new Error(`${path}: ${response.status}`)
  return response.json()
}

// Ready when /readyz answers while our server is still running; if it stops first, its own
// message explains why and the exit handler above passes its exit code on.
let ready = false
for (let i = 0; i < 100 && !exited && !ready; i++) {
  try {
    await get("/readyz")
    ready = !exited
  } catch {
    await new Promise((r) => setTimeout(r, 100))
  }
}
if (!ready) {
  if (!exited) {
    console.error(`npm start: the server did not become ready on ${base} within 10 s; stopping it`)
    server.kill("SIGTERM")
  }
  await new Promise(() => {}) // the exit handler ends the process
}
try {
  const jane = (await get("/api/v1/accounts?filter%5Breference-id%5D=abc-123")).data[0]
  const setStatus = (await get("/api/v1/account-actions")).data.find((a) => a.attributes.name === "Set status")
  console.log(`
acct is running on ${base}
  docs:      ${base}/docs   (OpenAPI: ${base}/openapi.json)
  admin key: ${adminKey}   (saved in ${keyFile}; make scoped keys with: npm run -s acct -- keys create --name NAME --scope account.read)

Run the 'Set status' action on Jane Doe (Persona's run-action example):

curl -X POST ${base}/api/v1/accounts/${jane?.id ?? "act_…"}/run-action \\
  -H 'Authorization: Bearer ${adminKey}' \\
  -H 'Content-Type: application/json' \\
  -d '{"data":{"account-action-id":"${setStatus?.id ?? "accac_…"}","parameters":{"status":"activated"}}}'

Stop with Ctrl-C.
`)
} catch (e) {
  console.error(`acct started, but the demo lookup failed: ${e.message}`)
}
