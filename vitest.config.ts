import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    // Each project's settings (sources, timeouts) come from vitest.project.ts: a project
    // inherits nothing from this file.
    projects: ["packages/*", "apps/*"],
    // CI asks for a JSON summary beside the usual output (see .ci/run).
    ...(process.env.ACCT_VITEST_JSON
      ? { reporters: ["default", "json"], outputFile: { json: process.env.ACCT_VITEST_JSON } }
      : {})
  }
})
