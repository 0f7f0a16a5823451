declare const __ACCT_VERSION__: string | undefined

/** Injected by the bundler from package.json; "dev" when run from sources. */
export const VERSION: string = typeof __ACCT_VERSION__ === "string" ? __ACCT_VERSION__ : "dev"
