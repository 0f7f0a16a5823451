export * from "./network.js"
export * from "./layer.js"
export * from "./dispatcher.js"
export * from "./deliveries.js"
