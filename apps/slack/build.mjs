// Bundles the Slack app into dist/slack.mjs.
import { bundleApp } from "../../scripts/bundle-app.mjs"

await bundleApp("slack")
