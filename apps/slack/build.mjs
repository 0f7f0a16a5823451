// Bundles the Slack app into dist/slack.mjs, and its worker thread into dist/slack-worker.mjs.
import { bundleApp } from "../../scripts/bundle-app.mjs"

await bundleApp("slack", { slack: "src/main.ts", "slack-worker": "src/worker.ts" })
