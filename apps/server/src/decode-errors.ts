/**
 * A request that does not fit the wire schema, in core's words (`plainIssues`, the one home of
 * that wording): `meta.tag-name: expected a list of strings, got null`.
 */
import { formatPath, plainIssues, type RawIssue } from "@acct/core"

/** "expected an object" at the root names no field: there it is the body that is wrong. */
const atRoot = (message: string) =>
  message.startsWith("expected an object") ? `the request body must be a JSON object${message.slice("expected an object".length)}` : message

/** A decode failure as one line: `field: problem; …`. */
export const describeRequestIssues = (issues: ReadonlyArray<RawIssue>): string =>
  plainIssues(issues)
    .map((issue) => (issue.path.length > 0 ? `${formatPath(issue.path)}: ${issue.message}` : atRoot(issue.message)))
    .join("; ")
