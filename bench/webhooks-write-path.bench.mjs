// What writing events costs a change on Postgres: the same transaction (an UPDATE of an
// account-sized row, as a change does) without events, with an event row, with an event row
// stamped with its transaction's id (xid8, indexed with seq: what event-log.ts writes since the
// feed reads in (xid, seq) order) plus the NOTIFY that wakes other replicas' dispatchers, and —
// what it did before — with an event row under an events lock (pg_advisory_xact_lock, held to
// commit so events commit in seq order), with and without the NOTIFY — the write path, in
// plain SQL (node-postgres, BENCH_WRITERS concurrent writers, default 8, BENCH_WRITE_TXS each
// variant and round, default 2000). A LISTEN connection is open as a replica's would be. Rounds
// are interleaved (BENCH_ROUNDS, default 3) and medians printed, as ratios against the change
// without events measured in the same run.
import pg from "pg"

const postgresUrl = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const writers = Number(process.env.BENCH_WRITERS ?? 8)
const perRound = Number(process.env.BENCH_WRITE_TXS ?? 2000)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const LOCK = 0x61637665

const admin = new pg.Client({ connectionString: postgresUrl })
if (!(await admin.connect().then(() => true, () => false))) {
  console.log(`Postgres at ${postgresUrl} unreachable: skipped`)
  process.exit(0)
}
const name = `acct_wh_write_bench_${Date.now()}`
await admin.query(`CREATE DATABASE ${name}`)
const url = Object.assign(new URL(postgresUrl), { pathname: `/${name}` }).toString()
const pool = new pg.Pool({ connectionString: url, max: writers })
// Dropping the database at the end ends the pool's idle connections from the server's side.
pool.on("error", () => {})
const listener = new pg.Client({ connectionString: url })

const variants = {
  "without events": async (c, i) => {
    await c.query("UPDATE accounts SET body = $1, version = version + 1 WHERE id = $2", [`b${i}`, i % 100])
  },
  "+ event row": async (c, i) => {
    await c.query("UPDATE accounts SET body = $1, version = version + 1 WHERE id = $2", [`b${i}`, i % 100])
    await c.query("INSERT INTO events (id, payload) VALUES ($1, $2) RETURNING seq", [`evt_${i}_${Math.random()}`, PAYLOAD])
  },
  "+ event row, NOTIFY": async (c, i) => {
    await c.query("UPDATE accounts SET body = $1, version = version + 1 WHERE id = $2", [`b${i}`, i % 100])
    const { rows } = await c.query("INSERT INTO events (id, payload) VALUES ($1, $2) RETURNING seq", [`evt_${i}_${Math.random()}`, PAYLOAD])
    await c.query("SELECT pg_notify('acct_events', $1)", [String(rows[0].seq)])
  },
  // What event-log.ts does now: no lock; the row's xid (the column's default) orders it for the
  // feed, which reads only below the oldest running transaction.
  "+ event row (xid), NOTIFY": async (c, i) => {
    await c.query("UPDATE accounts SET body = $1, version = version + 1 WHERE id = $2", [`b${i}`, i % 100])
    const { rows } = await c.query("INSERT INTO events_xid (id, payload) VALUES ($1, $2) RETURNING seq", [`evt_${i}_${Math.random()}`, PAYLOAD])
    await c.query("SELECT pg_notify('acct_events', $1)", [String(rows[0].seq)])
  },
  "+ event row, lock": async (c, i) => {
    await c.query("UPDATE accounts SET body = $1, version = version + 1 WHERE id = $2", [`b${i}`, i % 100])
    await c.query("SELECT pg_advisory_xact_lock($1)", [LOCK])
    await c.query("INSERT INTO events (id, payload) VALUES ($1, $2) RETURNING seq", [`evt_${i}_${Math.random()}`, PAYLOAD])
  },
  "+ event row, lock, NOTIFY": async (c, i) => {
    await c.query("UPDATE accounts SET body = $1, version = version + 1 WHERE id = $2", [`b${i}`, i % 100])
    await c.query("SELECT pg_advisory_xact_lock($1)", [LOCK])
    const { rows } = await c.query("INSERT INTO events (id, payload) VALUES ($1, $2) RETURNING seq", [`evt_${i}_${Math.random()}`, PAYLOAD])
    await c.query("SELECT pg_notify('acct_events', $1)", [String(rows[0].seq)])
  }
}
const PAYLOAD = JSON.stringify({ type: "account", attributes: { fields: { email: { type: "string", value: "x@example.com" } }, tags: ["a", "b"] } }).repeat(4)

const run = async (work) => {
  const latencies = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: writers }, async () => {
      const c = await pool.connect()
      try {
        while (next < perRound) {
          const i = next++
          const t = performance.now()
          await c.query("BEGIN")
          await work(c, i)
          await c.query("COMMIT")
          latencies.push(performance.now() - t)
        }
      } finally {
        c.release()
      }
    })
  )
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return { perSecond: perRound / seconds, p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)] }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

try {
  await pool.query("CREATE TABLE accounts (id INTEGER PRIMARY KEY, body TEXT, version INTEGER NOT NULL)")
  await pool.query("INSERT INTO accounts SELECT g, '', 0 FROM generate_series(0, 99) g")
  await pool.query("CREATE TABLE events (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, payload TEXT NOT NULL)")
  await pool.query("CREATE TABLE events_xid (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, payload TEXT NOT NULL, xid xid8 NOT NULL DEFAULT pg_current_xact_id())")
  await pool.query("CREATE INDEX events_xid_commit_order ON events_xid (xid, seq)")
  await listener.connect()
  await listener.query("LISTEN acct_events")
  let notified = 0
  listener.on("notification", () => notified++)
  const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
  for (let round = 0; round < rounds; round++) for (const [label, work] of Object.entries(variants)) results[label].push(await run(work))
  const base = median(results["without events"].map((r) => r.perSecond))
  const baseP50 = median(results["without events"].map((r) => r.p50))
  console.log(`${writers} writers, ${perRound} transactions per variant and round, ${rounds} interleaved rounds (medians):`)
  for (const [label, all] of Object.entries(results)) {
    const perSecond = median(all.map((r) => r.perSecond))
    const p50 = median(all.map((r) => r.p50))
    const p99 = median(all.map((r) => r.p99))
    console.log(`  change ${label.padEnd(26)} ${perSecond.toFixed(0).padStart(6)} tx/s (${(perSecond / base).toFixed(2)}×), p50 ${p50.toFixed(2)} ms (${(p50 / baseP50).toFixed(2)}×), p99 ${p99.toFixed(2)} ms`)
  }
  console.log(`  (${notified} notifications heard by the listener)`)
} finally {
  await listener.end().catch(() => {})
  await pool.end()
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
}
