/**
 * Schema migrations, written once for SQLite and Postgres: only the auto-increment column
 * differs. Timestamps are ISO-8601 text (sortable, same on both); JSON documents are text.
 */
import * as Migrator from "@effect/sql/Migrator"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** An auto-increment primary key: the one column type that differs between the dialects. */
const serialKey = (sql: SqlClient.SqlClient) =>
  sql.onDialectOrElse({
    pg: () => sql.literal("BIGSERIAL PRIMARY KEY"),
    orElse: () => sql.literal("INTEGER PRIMARY KEY AUTOINCREMENT")
  })

const initial = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const serial = serialKey(sql)
  yield* sql`CREATE TABLE account_types (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  )`
  yield* sql`CREATE TABLE account_actions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    account_type_id TEXT NOT NULL REFERENCES account_types(id),
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  )`
  yield* sql`CREATE TABLE accounts (
    seq ${serial},
    id TEXT NOT NULL UNIQUE,
    reference_id TEXT UNIQUE,
    account_type_id TEXT NOT NULL REFERENCES account_types(id),
    status TEXT NOT NULL,
    fields TEXT NOT NULL,
    tags TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    redacted_at TEXT,
    consolidated_into TEXT REFERENCES accounts(id)
  )`
  yield* sql`CREATE INDEX accounts_status ON accounts(status, seq)`
  // Tags are also kept here, one row each, so `--tag x` filters use an index.
  yield* sql`CREATE TABLE account_tags (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (account_id, tag)
  )`
  yield* sql`CREATE INDEX account_tags_tag ON account_tags(tag, account_id)`
  yield* sql`CREATE TABLE action_runs (
    seq ${serial},
    id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    action_id TEXT,
    action_name TEXT NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL,
    parameters TEXT NOT NULL,
    status_before TEXT NOT NULL,
    status_after TEXT NOT NULL,
    events TEXT NOT NULL,
    error TEXT,
    idempotency_key TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX action_runs_account ON action_runs(account_id, seq)`
  yield* sql`CREATE TABLE audit_log (
    seq ${serial},
    at TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    channel TEXT NOT NULL,
    operation TEXT NOT NULL,
    account_id TEXT,
    run_id TEXT,
    status_before TEXT,
    status_after TEXT,
    outcome TEXT NOT NULL,
    reason TEXT,
    request_id TEXT
  )`
  yield* sql`CREATE INDEX audit_log_account ON audit_log(account_id, seq)`
  yield* sql`CREATE TABLE idempotency_keys (
    principal_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    operation TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (principal_id, idempotency_key)
  )`
  yield* sql`CREATE INDEX idempotency_keys_expiry ON idempotency_keys(expires_at)`
  // Events emitted by action steps (replaced by the events table in 0007).
  yield* sql`CREATE TABLE outbox (
    seq ${serial},
    run_id TEXT NOT NULL,
    event TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    delivered_at TEXT
  )`
})

const apiKeys = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // Only the SHA-256 of a key is stored; the secret is shown once, at creation.
  yield* sql`CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  )`
})

const httpIdempotency = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // The HTTP service's Idempotency-Key records: the first response (status and body) of a
  // request, per caller (hash of its bearer token) and key; `pending` while it runs.
  yield* sql`CREATE TABLE http_idempotency (
    caller TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (caller, idempotency_key)
  )`
  yield* sql`CREATE INDEX http_idempotency_expiry ON http_idempotency(expires_at)`
})

const rateLimits = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // Rate-limit counters shared by every replica (see rate-limiter-store.ts).
  yield* sql`CREATE TABLE rate_limits (
    limit_key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    rejected INTEGER NOT NULL
  )`
})

const events = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const serial = serialKey(sql)
  // Every committed change's events (event-log.ts), written in the change's transaction. `seq`
  // is commit order (the feed's cursor); payload and context are the domain's JSON. No foreign
  // key to accounts: some events (a webhook endpoint's) are about other objects.
  yield* sql`CREATE TABLE events (
    seq ${serial},
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    account_id TEXT,
    created_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    context TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX events_name ON events(name, seq)`
  yield* sql`CREATE INDEX events_object ON events(object_id, seq)`
  yield* sql`CREATE INDEX events_account ON events(account_id, seq)`
  yield* sql`CREATE INDEX events_created ON events(created_at)`
  // The outbox was written by emit-event steps and never read: those events live on in their
  // runs' records (action_runs.events); from now on they are events like any other.
  yield* sql`DROP TABLE outbox`
})

const webhooks = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const serial = serialKey(sql)
  // Webhook endpoints (Persona's `webhook` resource). Lists are JSON text.
  yield* sql`CREATE TABLE webhooks (
    seq ${serial},
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    enabled_events TEXT NOT NULL,
    key_inflection TEXT NOT NULL,
    attributes_blocklist TEXT NOT NULL,
    api_version TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    failing_since TEXT,
    disabled_reason TEXT
  )`
  // Signing secrets, AES-256-GCM encrypted (webhook-keyring.ts): the current one has no
  // expiry; a rotated-out one signs too until expires_at.
  yield* sql`CREATE TABLE webhook_secrets (
    seq ${serial},
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT
  )`
  yield* sql`CREATE INDEX webhook_secrets_webhook ON webhook_secrets(webhook_id, seq)`
  // One row per event per endpoint (and per replay: generation 1, 2, …): the delivery's state,
  // attempts so far, when it is next due, and the lease of the dispatcher working on it.
  yield* sql`CREATE TABLE webhook_deliveries (
    seq ${serial},
    id TEXT NOT NULL UNIQUE,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    event_id TEXT NOT NULL,
    event_seq BIGINT NOT NULL,
    generation INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    lease_until TEXT,
    lease_token TEXT,
    first_attempted_at TEXT,
    finished_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (webhook_id, event_id, generation)
  )`
  yield* sql`CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, webhook_id, next_attempt_at)`
  yield* sql`CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, seq)`
  // Every attempt: when, how it ended, how long it took, the first KB of the answer.
  yield* sql`CREATE TABLE webhook_attempts (
    seq ${serial},
    delivery_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    status INTEGER,
    error TEXT,
    response TEXT
  )`
  yield* sql`CREATE INDEX webhook_attempts_webhook ON webhook_attempts(webhook_id, seq)`
  yield* sql`CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, seq)`
  // How far the dispatchers have turned events into deliveries (one row, id 1).
  yield* sql`CREATE TABLE webhook_cursor (
    id INTEGER PRIMARY KEY,
    event_seq BIGINT NOT NULL
  )`
})

const delegation = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // A person acting through a front end's key: the person is the actor, the key is `via`
  // (null when the actor is the key itself). Runs keep it as JSON, like their actor.
  yield* sql`ALTER TABLE audit_log ADD COLUMN via_kind TEXT`
  yield* sql`ALTER TABLE audit_log ADD COLUMN via_id TEXT`
  yield* sql`ALTER TABLE audit_log ADD COLUMN via_name TEXT`
  yield* sql`ALTER TABLE action_runs ADD COLUMN via TEXT`
})

const oneIdempotencyRecord = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // The store's record is the only one: it also keeps refusals by the operation itself (not
  // found, conflict, unprocessable) as the encoded error, replayed like a result.
  yield* sql`DROP TABLE http_idempotency`
  yield* sql`ALTER TABLE idempotency_keys ADD COLUMN error TEXT`
})

const search = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // The values of searchable fields (search.ts), one row per account and field, written with
  // the account. Text compares byte-wise on both databases (Postgres' default collation would
  // order "Zoe" and "adam" differently from SQLite).
  const bytewise = sql.onDialectOrElse({ pg: () => sql.literal(' COLLATE "C"'), orElse: () => sql.literal("") })
  yield* sql`CREATE TABLE account_search_values (
    account_seq BIGINT NOT NULL,
    attribute TEXT NOT NULL,
    text_value TEXT${bytewise},
    number_value DOUBLE PRECISION,
    PRIMARY KEY (account_seq, attribute)
  )`
  yield* sql`CREATE INDEX account_search_text ON account_search_values(attribute, text_value, account_seq)`
  yield* sql`CREATE INDEX account_search_number ON account_search_values(attribute, number_value, account_seq)`
  // Search predicates and sorts on the account's own columns (status has its index already).
  yield* sql`CREATE INDEX accounts_type ON accounts(account_type_id, seq)`
  yield* sql`CREATE INDEX accounts_created ON accounts(created_at, seq)`
  yield* sql`CREATE INDEX accounts_updated ON accounts(updated_at, seq)`
})

const relations = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const serial = serialKey(sql)
  // Relations between accounts (the catalog's relation schemas): `seq` orders an account's
  // relations for cursor pages, newest first.
  yield* sql`CREATE TABLE account_relations (
    seq ${serial},
    account_id TEXT NOT NULL REFERENCES accounts(id),
    relation_key TEXT NOT NULL,
    target_id TEXT NOT NULL REFERENCES accounts(id),
    created_at TEXT NOT NULL,
    UNIQUE (account_id, relation_key, target_id)
  )`
  yield* sql`CREATE INDEX account_relations_list ON account_relations(account_id, relation_key, seq)`
  // A consolidation re-points the relations that name a source.
  yield* sql`CREATE INDEX account_relations_target ON account_relations(target_id)`
})

const importers = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const serial = serialKey(sql)
  // Persona's account importers: counts move as the rows are imported, chunk by chunk, each
  // chunk in the transaction that writes its accounts.
  yield* sql`CREATE TABLE importers (
    seq ${serial},
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    account_type_id TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    successful_count INTEGER NOT NULL,
    duplicate_count INTEGER NOT NULL,
    error_count INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    -- Moves with every chunk: a pending importer that stopped moving was interrupted.
    updated_at TEXT NOT NULL,
    completed_at TEXT
  )`
  // One line per problem: the row (its line in the file), the column, what is wrong. Never the
  // cell's value: the file may hold personal data, and its sender has it anyway.
  yield* sql`CREATE TABLE importer_errors (
    seq ${serial},
    importer_id TEXT NOT NULL REFERENCES importers(id),
    row_number INTEGER NOT NULL,
    column_name TEXT,
    problem TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX importer_errors_importer ON importer_errors(importer_id, seq)`
})

const resumableImports = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // An import's file, how far it got and who started it, so that another process can resume it
  // after this one stops (importer.ts); the file is cleared when the import ends. The lease
  // (owner, until: epoch ms) says which process imports it now.
  yield* sql`ALTER TABLE importers ADD COLUMN file TEXT`
  yield* sql`ALTER TABLE importers ADD COLUMN next_row INTEGER NOT NULL DEFAULT 0`
  yield* sql`ALTER TABLE importers ADD COLUMN invocation TEXT`
  yield* sql`ALTER TABLE importers ADD COLUMN lease_owner TEXT`
  yield* sql`ALTER TABLE importers ADD COLUMN lease_until DOUBLE PRECISION`
  yield* sql`CREATE INDEX importers_pending ON importers(status, lease_until)`
  // Rate-limit counters are disposable (a crash may reset them): on Postgres they skip the WAL,
  // so counting a request does not wait for a disk flush (2.5–4 ms p50, 12–19 ms p99 here).
  yield* sql.onDialectOrElse({ pg: () => sql`ALTER TABLE rate_limits SET UNLOGGED`, orElse: () => Effect.void })
})

const gatewayIdempotency = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // Gateway mode's Idempotency-Key records (gateway-idempotency.ts): an upstream change cannot
  // share a local transaction, so a key is claimed (`pending`) before the upstream call and
  // holds its answer (`done`) after it.
  yield* sql`CREATE TABLE gateway_idempotency (
    principal_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    operation TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    response TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (principal_id, idempotency_key)
  )`
  yield* sql`CREATE INDEX gateway_idempotency_expiry ON gateway_idempotency(expires_at)`
})

const eventCommitOrder = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // Postgres: each event row keeps its writing transaction's id, and the feed reads in (xid, seq)
  // order only below the oldest running transaction (event-log.ts, FeedPosition) — instead of an
  // advisory lock making every event-writing commit wait for the one before. Rows written before
  // get xid 0: already in seq order, before any later one, and the cursor (0, its seq) keeps its
  // place. SQLite has one writer at a time: seq is commit order there.
  yield* sql.onDialectOrElse({
    pg: () =>
      Effect.gen(function* () {
        yield* sql`ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT '0'`
        yield* sql`ALTER TABLE events ALTER COLUMN xid SET DEFAULT pg_current_xact_id()`
        yield* sql`CREATE INDEX events_commit_order ON events (xid, seq)`
        yield* sql`ALTER TABLE webhook_cursor ADD COLUMN event_xid xid8 NOT NULL DEFAULT '0'`
      }),
    orElse: () => Effect.void
  })
})

const pendingDeliveriesInOrder = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // A claim takes an endpoint's oldest pending deliveries: with (state, webhook_id,
  // next_attempt_at) every claim read and sorted all of the endpoint's pending rows, so a backlog
  // made each claim slower (2 ms at 10,000 pending) and the backlog grew faster. Walking the
  // pending rows in claim order stops after the claim's few rows (11 µs at 10,000 pending).
  yield* sql`DROP INDEX webhook_deliveries_due`
  yield* sql`CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(webhook_id, event_seq, generation) WHERE state = 'pending'`
})

const importerFiles = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // An import's file in a table of its own, written once and deleted at the end: in the
  // importers row, which every chunk updates, SQLite rewrote the whole file (6 MB for 100,000
  // rows) twice per chunk, and each poll of the importer read it.
  yield* sql`CREATE TABLE importer_files (
    importer_id TEXT PRIMARY KEY REFERENCES importers(id),
    file TEXT NOT NULL
  )`
  yield* sql`INSERT INTO importer_files (importer_id, file) SELECT id, file FROM importers WHERE file IS NOT NULL`
  yield* sql`ALTER TABLE importers DROP COLUMN file`
})

export const migrations = Migrator.fromRecord({
  "0001_initial": initial,
  "0002_api_keys": apiKeys,
  "0003_http_idempotency": httpIdempotency,
  "0004_rate_limits": rateLimits,
  "0005_delegation": delegation,
  "0006_one_idempotency_record": oneIdempotencyRecord,
  "0007_events": events,
  "0008_webhooks": webhooks,
  "0009_relations": relations,
  "0010_search": search,
  "0011_importers": importers,
  "0013_resumable_imports": resumableImports,
  "0014_gateway_idempotency": gatewayIdempotency,
  "0015_event_commit_order": eventCommitOrder,
  "0016_pending_deliveries_in_order": pendingDeliveriesInOrder,
  "0018_importer_files": importerFiles
})

const migrate = Migrator.make({})({ loader: migrations, table: "acct_migrations" })

/**
 * Brings the schema up to date. A database already at the newest migration — every start but
 * the first, and every CLI command — is told by one SELECT, without the migrator's transaction
 * and table lock; anything else (no table yet, an older schema) goes through the migrator.
 */
export const runMigrations = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const newest = Math.max(...(yield* migrations).map(([id]) => id))
  const applied = yield* sql<{ readonly id: number | string | null }>`SELECT max(migration_id) AS id FROM acct_migrations`.pipe(
    Effect.map((rows) => Number(rows[0]?.id ?? 0)),
    Effect.orElseSucceed(() => 0)
  )
  return applied >= newest ? [] : yield* migrate
})
