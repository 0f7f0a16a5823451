// Starting and stopping the servers a benchmark measures, as child processes.
import { spawn } from "node:child_process"

/** With BENCH_CPU_PROF=<dir>, every started process writes a V8 CPU profile there when it exits. */
const profiling = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []

/** Starts `file` with node and `env`; resolves once it prints "Listening on". */
export const startProcess = (file, env) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...profiling, file], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (c) => {
      if (out.length < 100_000) out += c
      if (out.includes("Listening on")) resolve(child)
    })
    child.once("exit", (code) => reject(new Error(`${file} exited ${code}: ${out}`)))
  })

/** SIGTERM, and SIGKILL if the process has not exited within 20 s. */
export const stopProcess = (child) =>
  new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 20_000)
    child.once("exit", () => {
      clearTimeout(force)
      resolve()
    })
    child.kill("SIGTERM")
  })
