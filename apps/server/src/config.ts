/** The service's configuration, from the environment. */
import { MIN_SECRET_LENGTH } from "@acct/core"
import { Config, Redacted } from "effect"

export const ServerConfig = Config.all({
  port: Config.integer("PORT").pipe(Config.withDefault(8080)),
  host: Config.string("HOST").pipe(Config.withDefault("127.0.0.1")),
  /**
   * Gateway mode: serve the accounts of this profile (acct.config.yaml; or ACCT_PROVIDER=persona|
   * softwareone|remote with its variables) instead of the database's, adding keys, scopes, rate
   * limits and (through the upstream's own keys) idempotency in front of it. The database then holds only those.
   */
  profile: Config.option(Config.string("ACCT_PROFILE")),
  /** An SQLite file, or a postgres:// URL for several servers sharing one database. */
  database: Config.string("ACCT_DATABASE").pipe(Config.withDefault(".acct/acct.db")),
  /** Registered as an admin key at start, if absent; at least MIN_SECRET_LENGTH characters. */
  bootstrapKey: Config.option(
    Config.redacted("ACCT_BOOTSTRAP_KEY").pipe(
      Config.validate({
        message: `ACCT_BOOTSTRAP_KEY must be at least ${MIN_SECRET_LENGTH} characters (a shorter key can be guessed); make one with: openssl rand -hex 24`,
        validation: (key) => Redacted.value(key).length >= MIN_SECRET_LENGTH
      })
    )
  ),
  /** Load the demo catalog and accounts when the database has no account types. */
  seedDemo: Config.boolean("ACCT_SEED_DEMO").pipe(Config.withDefault(true)),
  /** Requests per minute per API key (RateLimit-* headers on every response, 429 past it). */
  rateLimit: Config.integer("ACCT_RATE_LIMIT").pipe(Config.withDefault(300)),
  /** Postgres only: connections per server, and the longest a statement may run. */
  dbPoolSize: Config.integer("ACCT_DB_POOL_SIZE").pipe(Config.withDefault(10)),
  dbStatementTimeoutMs: Config.integer("ACCT_DB_STATEMENT_TIMEOUT_MS").pipe(Config.withDefault(5000)),
  /**
   * Postgres only: how long a start keeps trying while Postgres is unreachable (restarting, a
   * failover; requests meanwhile get 503 with Retry-After, and /readyz is not ready); then it
   * exits 1 saying why. 0: one try.
   */
  dbConnectRetrySeconds: Config.number("ACCT_DB_CONNECT_RETRY_SECONDS").pipe(Config.withDefault(30)),
  /** From SIGTERM to exit at the latest: in-flight requests get this long to finish. */
  shutdownGraceSeconds: Config.number("ACCT_SHUTDOWN_GRACE_SECONDS").pipe(Config.withDefault(10)),
  /** After SIGTERM, how long /readyz answers 503 while requests are still served (load balancers notice). */
  shutdownReadinessDelaySeconds: Config.number("ACCT_SHUTDOWN_READINESS_DELAY_SECONDS").pipe(Config.withDefault(2)),
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: Config.integer("ACCT_MAX_BODY_BYTES").pipe(Config.withDefault(1024 * 1024)),
  /** Largest import request (`POST /api/v1/importer/accounts`), in bytes: a CSV of 100,000 rows is ≈ 7 MB (≈ 10 MB base64). */
  maxImportBytes: Config.integer("ACCT_MAX_IMPORT_BYTES").pipe(Config.withDefault(64 * 1024 * 1024))
})
export type ServerConfig = Config.Config.Success<typeof ServerConfig>
