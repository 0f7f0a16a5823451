// For the Slack bench, in its own process so the load generator measures only the app: a proxy
// to acct that holds every request BENCH_DELAY_MS (2000), and a stand-in for Slack's
// response_url that counts what it receives (GET /count).
import { createServer, request as forward } from "node:http"

const delay = Number(process.env.BENCH_DELAY_MS ?? 2000)
const target = Number(process.env.TARGET_PORT)
const slow = createServer((req, res) => {
  setTimeout(() => {
    const upstream = forward({ host: "127.0.0.1", port: target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on("error", () => res.writeHead(502).end())
    req.pipe(upstream)
  }, delay)
})
let delivered = 0
const responses = createServer((req, res) => {
  if (req.method === "GET") return void res.writeHead(200).end(String(delivered))
  req.resume()
  req.on("end", () => {
    delivered++
    res.writeHead(200).end("ok")
  })
})
await new Promise((resolve) => slow.listen(Number(process.env.PORT), "127.0.0.1", resolve))
await new Promise((resolve) => responses.listen(Number(process.env.RESPONSES_PORT), "127.0.0.1", resolve))
console.log(`Listening on ${process.env.PORT} and ${process.env.RESPONSES_PORT}`)
process.on("SIGTERM", () => process.exit(0))
