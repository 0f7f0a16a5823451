/**
 * What every test project shares (a project config inherits nothing from the root config):
 * the @acct packages are read from their TypeScript sources, not their built dist/ (the
 * `@acct/source` condition in each package's `exports`), so a test sees the code as edited; and
 * the root's timeouts, since tests spawn built processes on a shared 2-core machine.
 */
import { defineProject } from "vitest/config"

export const acctProject = (name: string) =>
  defineProject({
    ssr: { resolve: { conditions: ["@acct/source", "module", "node", "development|production"] } },
    test: { name, include: ["test/**/*.test.ts"], testTimeout: 30_000, hookTimeout: 60_000 }
  })
