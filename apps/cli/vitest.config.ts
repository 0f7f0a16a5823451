import { defineProject } from "vitest/config"

export default defineProject({
  // Every test here spawns the built CLI, often several times: on a loaded 2-core machine one
  // test can take well over vitest's default 5 s (the root config's timeouts do not reach projects).
  test: { name: "cli", include: ["test/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 }
})
