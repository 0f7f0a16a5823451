import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll } from "vitest"

export const BIN = fileURLToPath(new URL("../dist/acct.mjs", import.meta.url))

if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npm run build, or npm test which builds)`)

export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a subprocess's JSON, asserted field by field
  readonly json: () => any
}

/** Runs the built `acct` in a temp directory of its own with its own database. */
export const workspace = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "acct-cli-"))
  const db = path.join(dir, "acct.db")
  const environment = (env: Record<string, string | undefined>) => ({ ...process.env, ACCT_DATABASE: db, NO_COLOR: "1", ...env })
  const result = (code: number | null, stdout: string, stderr: string): Result => ({ code: code ?? -1, stdout, stderr, json: () => JSON.parse(stdout) })
  /** `env` adds to (or, with `undefined`, removes from) the environment. */
  const acct = (args: ReadonlyArray<string>, input?: string, env: Record<string, string | undefined> = {}): Result => {
    const run = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, input, encoding: "utf8", env: environment(env), timeout: 20_000 })
    return result(run.status, run.stdout, run.stderr)
  }
  /** As `acct`, leaving this process free meanwhile: for a fake upstream served from this process. */
  const acctAsync = (args: ReadonlyArray<string>, env: Record<string, string | undefined> = {}) =>
    new Promise<Result>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: environment(env), stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 })
      let stdout = ""
      let stderr = ""
      child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk))
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk))
      child.once("close", (code) => resolve(result(code, stdout, stderr)))
    })
  return { dir, db, acct, acctAsync }
}

const SERVER = fileURLToPath(new URL("../../server/dist/server.mjs", import.meta.url))

/** Starts the built acct server on a free port with `env`; answers the process and its URL once it listens. */
export const startAcctServer = (env: Record<string, string>) => {
  const server: ChildProcess = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: "0", HOST: "127.0.0.1", ...env }, stdio: ["ignore", "pipe", "pipe"] })
  const url = new Promise<string>((resolve, reject) => {
    let out = ""
    server.stdout!.on("data", (chunk: Buffer) => {
      out += chunk
      const found = /Listening on (http:\/\/[\d.:]+)/.exec(out)
      if (found) resolve(found[1]!)
    })
    server.once("exit", (code) => reject(new Error(`server exited ${code}: ${out}`)))
    setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000)
  })
  return { server, url }
}

/** The built acct server for the tests of one describe block: started before them, stopped after. */
export const serveDuringTests = (env: Record<string, string>) => {
  let server: ChildProcess | undefined
  let url = ""
  beforeAll(async () => {
    const started = startAcctServer(env)
    server = started.server
    url = await started.url
  })
  afterAll(() => {
    server?.kill("SIGTERM")
  })
  /** Its base URL, once it listens. */
  return { url: () => url }
}
