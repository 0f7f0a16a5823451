/** Writes persona-api.d.ts from the vendored spec, unless it is up to date. */
export declare const generate: () => Promise<void>
