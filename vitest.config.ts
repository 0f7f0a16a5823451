import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"],
    // CLI end-to-end tests spawn processes; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CI asks for a JSON summary beside the usual output (see .ci/run).
    ...(process.env.ACCT_VITEST_JSON
      ? { reporters: ["default", "json"], outputFile: { json: process.env.ACCT_VITEST_JSON } }
      : {})
  }
})
