// Bundles the service into dist/server.mjs.
import { bundleApp } from "../../scripts/bundle-app.mjs"

await bundleApp("server")
