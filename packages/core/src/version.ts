/**
 * acct's version: the one every package, the CLI's `--version` and the OpenAPI document's
 * `info.version` report. All @acct packages are released together (a changesets `fixed` group);
 * `npm run version-packages` bumps them and rewrites this line from @acct/core's package.json.
 * A test keeps the two in agreement.
 */
export const VERSION = "0.1.0"
