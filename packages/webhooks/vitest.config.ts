import { acctProject } from "../../vitest.project.ts"

export default acctProject("webhooks")
