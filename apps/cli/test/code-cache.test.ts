/**
 * The CLI runs its bundle through V8's code cache (src/code-cache.ts). The build ships one made
 * by this Node, so a first run needs none of its own. Whatever the cache directory holds —
 * nothing, garbage, another build's cache — or when it cannot be written, the answer is the
 * same; a cache that V8 cannot use is replaced by one it can, and other builds' caches go once
 * unused for a week.
 */
import { execFile, spawnSync } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { promisify } from "node:util"
import { beforeAll, describe, expect, it } from "vitest"
import { cacheDirectory, cacheFileName, STALE_CACHE_MS } from "../src/code-cache.js"
import { BIN, workspace } from "./cli.js"

const { acct, db, dir: workDir } = workspace()
const run = promisify(execFile)
let expected = ""

const freshDir = () => mkdtempSync(path.join(tmpdir(), "acct-code-cache-"))
const cacheFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".v8"))
const BUILD = path.dirname(BIN)
const shippedCache = () => {
  const [file, ...others] = cacheFiles(BUILD)
  expect(others).toEqual([])
  return file!
}

/**
 * A copy of the build with `shipped` in place of its own code cache (none: undefined), so the
 * user's cache directory is all there is; its node_modules is the real build's.
 */
const buildWith = (shipped: Buffer | undefined) => {
  const dist = path.join(freshDir(), "dist")
  mkdirSync(dist)
  for (const file of ["acct.mjs", "main.cjs"]) copyFileSync(path.join(BUILD, file), path.join(dist, file))
  if (shipped !== undefined) writeFileSync(path.join(dist, shippedCache()), shipped)
  symlinkSync(path.join(BUILD, "..", "node_modules"), path.join(dist, "..", "node_modules"))
  return path.join(dist, "acct.mjs")
}
const unshipped = buildWith(undefined)

const getJaneWith = (bin: string, cacheDir: string) => {
  const result = spawnSync(process.execPath, [bin, "accounts", "get", "abc-123", "--json"], {
    cwd: workDir,
    encoding: "utf8",
    env: { ...process.env, ACCT_DATABASE: db, NO_COLOR: "1", ACCT_CACHE_DIR: cacheDir },
    timeout: 20_000
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}
/** `get` by a build that ships no cache: what the user's cache directory holds is all there is. */
const getJane = (cacheDir: string) => getJaneWith(unshipped, cacheDir)

describe("the CLI's code cache", () => {
  beforeAll(() => {
    expect(acct(["init", "--demo"], undefined, { ACCT_CACHE_DIR: freshDir() }).code).toBe(0)
    expected = getJane(freshDir()).stdout
    expect(JSON.parse(expected).referenceId).toBe("abc-123")
  })

  it("ships with the build, made by this Node: a first run uses it and writes none of its own", () => {
    expect(shippedCache()).toMatch(new RegExp(`^code-[0-9a-f]{16}-${process.version.replace(/\./g, "\\.")}-${process.arch}\\.v8$`))
    const dir = freshDir()
    const result = getJaneWith(BIN, dir)
    expect(result.stdout).toBe(expected)
    expect(cacheFiles(dir)).toEqual([])
  })

  it("a shipped cache this Node rejects: the same answer, and the user's cache directory gets a good one", () => {
    const dir = freshDir()
    const result = getJaneWith(buildWith(Buffer.from("not a code cache")), dir)
    expect(result.stdout).toBe(expected)
    expect(cacheFiles(dir)).toEqual([shippedCache()])
    expect(statSync(path.join(dir, shippedCache())).size).toBeGreaterThan(1000)
  })

  it("without a shipped cache, is written by the first run, for this Node, and used by the next ones", () => {
    const dir = freshDir()
    expect(getJane(dir).stdout).toBe(expected)
    const [file] = cacheFiles(dir)
    expect(file).toMatch(new RegExp(`^code-[0-9a-f]{16}-${process.version.replace(/\./g, "\\.")}-${process.arch}\\.v8$`))
    const written = statSync(path.join(dir, file!)).mtimeMs
    expect(getJane(dir).stdout).toBe(expected)
    // Accepted: not written again.
    expect(statSync(path.join(dir, file!)).mtimeMs).toBe(written)
    expect(cacheFiles(dir)).toEqual([file])
  })

  it("garbage or a truncated cache: the same answer, and the cache is replaced by a good one", () => {
    const dir = freshDir()
    getJane(dir)
    const [file] = cacheFiles(dir)
    const good = readFileSync(path.join(dir, file!))
    for (const bad of [Buffer.from("not a code cache"), good.subarray(0, good.length >> 1), Buffer.alloc(0)]) {
      writeFileSync(path.join(dir, file!), bad)
      const result = getJane(dir)
      expect(result.code).toBe(0)
      expect(result.stdout).toBe(expected)
      expect(readFileSync(path.join(dir, file!)).length).toBeGreaterThan(bad.length)
    }
  })

  it("another build's cache is never used; unused for a week, it is removed when this build writes its own", () => {
    const dir = freshDir()
    getJane(dir)
    const [file] = cacheFiles(dir)
    const [recent, stale] = ["0123456789abcdef", "fedcba9876543210"].map((id) => cacheFileName(id, process.version, process.arch))
    // The real cache of this build under other builds' names: V8 would accept it (same source length).
    for (const other of [recent, stale]) writeFileSync(path.join(dir, other!), readFileSync(path.join(dir, file!)))
    const weekAgo = (Date.now() - STALE_CACHE_MS - 60_000) / 1000
    utimesSync(path.join(dir, stale!), weekAgo, weekAgo)
    writeFileSync(path.join(dir, file!), "stale")
    expect(getJane(dir).stdout).toBe(expected)
    expect(cacheFiles(dir).sort()).toEqual([file, recent].sort())
    expect(readFileSync(path.join(dir, file!)).length).toBeGreaterThan("stale".length)
  })

  it("first runs at the same time: every one answers, one cache is left, no partial file", async () => {
    const dir = freshDir()
    const runs = await Promise.all(
      Array.from({ length: 4 }, () =>
        run(process.execPath, [unshipped, "accounts", "get", "abc-123", "--json"], { cwd: workDir, env: { ...process.env, ACCT_DATABASE: db, NO_COLOR: "1", ACCT_CACHE_DIR: dir }, timeout: 60_000 })
      )
    )
    for (const { stdout } of runs) expect(stdout).toBe(expected)
    expect(readdirSync(dir)).toEqual(cacheFiles(dir))
    expect(cacheFiles(dir)).toHaveLength(1)
  })

  it("a cache directory that cannot be made or written changes nothing but speed", () => {
    const blocker = path.join(freshDir(), "a-file")
    writeFileSync(blocker, "")
    const result = getJane(path.join(blocker, "cache"))
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(expected)
    expect(result.stderr).toBe("")
  })

  it("lives in ACCT_CACHE_DIR, else $XDG_CACHE_HOME/acct, else ~/.cache/acct", () => {
    expect(cacheDirectory({ ACCT_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x" }, "/home/u")).toBe("/c")
    expect(cacheDirectory({ XDG_CACHE_HOME: "/x" }, "/home/u")).toBe(path.join("/x", "acct"))
    expect(cacheDirectory({}, "/home/u")).toBe(path.join("/home/u", ".cache", "acct"))
  })
})
