export * from "./network.js"
export * from "./layer.js"
