import { acctProject } from "../../vitest.project.ts"

// Every test here spawns the built CLI, often several times; the shared project config gives
// timeouts that fit a loaded 2-core machine.
export default acctProject("cli")
