/**
 * Runs the CLI's bundle (one CommonJS script) through V8's code cache. Compiling the ≈ 1.5 MB
 * bundle was the largest part of `acct`'s start-up; with a cache V8 deserialises the compiled
 * code instead (Node 20 has no `module.enableCompileCache`, so this is `vm.Script` with
 * `cachedData`, as v8-compile-cache does).
 *
 * The build ships a cache beside the bundle, made by the building Node (build.mjs), so that the
 * first run after a build is as fast as the later ones. When it is missing or V8 rejects it
 * (another Node, other flags), the cache is written after the run into the user's cache
 * directory, which is read first from then on. Either file is named by the bundle's content
 * hash, the Node version and the architecture: V8 itself checks only the source's length, so a
 * rebuilt bundle must never meet an old cache. A cache that is missing, unreadable, garbage or
 * rejected only costs the compile; a cache directory that cannot be written is ignored.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { homedir } from "node:os"
import path from "node:path"
import vm from "node:vm"

/** Where acct keeps its caches: ACCT_CACHE_DIR, else $XDG_CACHE_HOME/acct, else ~/.cache/acct. */
export const cacheDirectory = (env: Readonly<Record<string, string | undefined>>, home: string): string =>
  env.ACCT_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(home, ".cache"), "acct")

const CACHE_PREFIX = "code-"
const CACHE_SUFFIX = ".v8"

/** One file per bundle build, Node version and architecture (V8 rejects a cache from another Node). */
export const cacheFileName = (buildId: string, nodeVersion: string, arch: string): string => `${CACHE_PREFIX}${buildId}-${nodeVersion}-${arch}${CACHE_SUFFIX}`

const readCache = (file: string): Buffer | undefined => {
  try {
    return readFileSync(file)
  } catch {
    return undefined
  }
}

/**
 * Another build's cache unused this long is dropped. Not at once: several checkouts of acct
 * (or two installed versions) in use side by side would otherwise delete each other's cache.
 */
export const STALE_CACHE_MS = 7 * 24 * 60 * 60 * 1000

/** Writes the cache atomically (a reader never sees half a file) and drops stale caches of other builds. */
const writeCache = (directory: string, file: string, data: Buffer): void => {
  try {
    mkdirSync(directory, { recursive: true })
    const partial = `${file}.${process.pid}.tmp`
    writeFileSync(partial, data)
    renameSync(partial, file)
    for (const name of readdirSync(directory)) {
      const other = path.join(directory, name)
      // Caches only: another process's file being written (.tmp) is left alone.
      if (!name.startsWith(CACHE_PREFIX) || !name.endsWith(CACHE_SUFFIX) || other === file) continue
      const { atimeMs, mtimeMs } = statSync(other)
      if (Date.now() - Math.max(atimeMs, mtimeMs) > STALE_CACHE_MS) rmSync(other, { force: true })
    }
  } catch {
    // Unwritable or full: the next run compiles again, nothing else changes.
  }
}

/**
 * Evaluates the CommonJS bundle at `bundle` (as Node's loader would: `require` resolving from its
 * folder) with the code cache of `buildId`.
 */
export const runBundle = (bundle: string, buildId: string): void => {
  const directory = cacheDirectory(process.env, homedir())
  const name = cacheFileName(buildId, process.version, process.arch)
  const cacheFile = path.join(directory, name)
  const cachedData = readCache(cacheFile) ?? readCache(path.join(path.dirname(bundle), name))
  // The bundle came from ES modules: keep their strict mode. One line, so stack traces keep their line numbers.
  const source = `(function (exports, require, module, __filename, __dirname) {"use strict";${readFileSync(bundle, "utf8")}\n})`
  const script = new vm.Script(source, { filename: bundle, ...(cachedData ? { cachedData } : {}) })
  if (cachedData === undefined || script.cachedDataRejected === true) {
    // After the run, so the cache also holds the functions compiled lazily on the way.
    process.once("exit", () => writeCache(directory, cacheFile, script.createCachedData()))
  }
  const module = { exports: {} }
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void
  run.call(module.exports, module.exports, createRequire(bundle), module, bundle, path.dirname(bundle))
}
