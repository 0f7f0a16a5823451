/**
 * Exit codes: stable, documented in `acct --help` and the README, so scripts can branch on them.
 */
import type { AccountsError } from "@acct/core"

export const ExitCode = {
  ok: 0,
  /** Something unexpected; a bug or an environment problem. */
  failure: 1,
  /** Bad usage or input: unknown option, malformed id, parameters failing the schema. */
  usage: 2,
  notFound: 3,
  /** The account's state or version does not allow it (invalid transition, concurrent change). */
  conflict: 4,
  /** Not authenticated, or missing a permission. */
  permission: 5,
  /** Temporarily unavailable (busy database, rate limited, timeout): retrying later can work. */
  unavailable: 6,
  /** `bulk` finished, but some accounts failed (see the report); `import` finished, but some rows were refused. */
  partial: 7
} as const

export const exitCodeFor = (error: AccountsError): number => {
  switch (error._tag) {
    case "InvalidRequest":
    case "Unprocessable":
      return ExitCode.usage
    case "NotFound":
      return ExitCode.notFound
    case "Conflict":
    case "InvalidState":
      return ExitCode.conflict
    case "Unauthorized":
    case "Forbidden":
      return ExitCode.permission
    case "RateLimited":
    case "Unavailable":
    case "Timeout":
      return ExitCode.unavailable
  }
}

export const exitCodeHelp = `Exit codes:
  0  success
  1  unexpected failure
  2  bad usage or input (unknown option, malformed id, invalid parameters)
  3  not found (account, action, type, run)
  4  conflict: invalid state for the operation, or changed concurrently
  5  permission denied
  6  temporarily unavailable (busy, rate limited, timed out): retry later
  7  bulk run finished with failures (see its report); import with refused rows`
