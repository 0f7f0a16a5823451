// `npm start`: the HTTP service on the embedded SQLite store (./.acct/acct.db) with the demo
// catalog, an admin key (kept in ./.acct/admin-key so restarts reuse it), and a curl to try.
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"

const keyFile = ".acct/admin-key"
mkdirSync(".acct", { recursive: true })
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
const adminKey =
  process.env.ACCT_BOOTSTRAP_KEY ??
  (existsSync(keyFile)
    ? readFileSync(keyFile, "utf8").trim()
    : `acct_${[...randomBytes(40)].map((b) => ALPHABET[b % 62]).join("")}`)
if (!process.env.ACCT_BOOTSTRAP_KEY && !existsSync(keyFile)) writeFileSync(keyFile, `${adminKey}\n`, { mode: 0o600 })

const port = process.env.PORT ?? "8080"
const host = process.env.HOST ?? "127.0.0.1"
const base = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`
const server = spawn(process.execPath, [new URL("../apps/server/dist/server.mjs", import.meta.url).pathname], {
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, PORT: port, HOST: host, ACCT_BOOTSTRAP_KEY: adminKey }
})
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal))
server.on("exit", (code) => process.exit(code ?? 0))

const get = async (path) => {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${adminKey}` } })
  if (!response.ok) throw new Error(`${path}: ${response.status}`)
  return response.json()
}

for (let i = 0; i < 100; i++) {
  try {
    await get("/readyz")
    break
  } catch {
    await new Promise((r) => setTimeout(r, 100))
  }
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
