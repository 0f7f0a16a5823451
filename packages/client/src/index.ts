export * from "./accounts-http.js"
export * from "./promise.js"
export * from "./wire-errors.js"
