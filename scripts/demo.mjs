// `npm start`: a short tour of acct on the embedded default database (./.acct/acct.db).
import { spawnSync } from "node:child_process"

const bin = new URL("../apps/cli/dist/acct.mjs", import.meta.url).pathname
const steps = [
  ["Create the database with the demo catalog and accounts", ["init", "--demo"]],
  ["List the accounts", ["accounts", "list"]],
  ["Look at Jane Doe by her reference id", ["accounts", "get", "abc-123"]],
  ["Run the 'Set status' action on her (Persona's run-action example)", ["run", "Set status", "abc-123", "status=activated"]],
  ["Try a lifecycle transition the rules refuse (exit code 4, nothing changes)", ["activate", "ghi-789"]],
  ["See what happened to her account", ["runs", "list", "--account", "abc-123", "--size", "3"]]
]

for (const [title, args] of steps) {
  const shown = args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(" ")
  console.log(`\n# ${title}\n$ acct ${shown}`)
  const run = spawnSync(process.execPath, [bin, ...args], { stdio: "inherit" })
  if (run.status !== 0) console.log(`(exit code ${run.status})`)
}
console.log(`
Try more with \`npm run -s acct -- <command>\`, for example:
  npm run -s acct -- --help
  npm run -s acct -- actions list
  npm run -s acct -- run 'Suspend for review' abc-123 reason='chargeback'
  npm run -s acct -- accounts list --json`)
