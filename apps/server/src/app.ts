/**
 * The service as layers: the HttpApi with its handlers, authentication, error mapping, the
 * OpenAPI document and interactive docs, served behind the edge middleware, on the store.
 */
import { AcctApi } from "@acct/api"
import { BackendIds, idOwnerOf, localStore, resolveBackend, upstreamAccounts } from "@acct/backend"
import { Accounts, ApiKeys, withPolicy } from "@acct/core"
import {
  demoCatalog,
  isPostgresUrl,
  loadCatalog,
  parseCatalog,
  ResumeInterruptedImports,
  seedDemoAccounts,
  SqlRateLimiterStore,
  withGatewayIdempotency,
  withStartupLock
} from "@acct/store-sql"
import { RateLimiter } from "@effect/experimental"
import type { SqlClient } from "@effect/sql"
import { HttpApiBuilder, HttpApiScalar, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Duration, Effect, Either, Layer, Option, Redacted } from "effect"
import { createServer } from "node:http"
import { AuthenticationLive, ProblemAuthenticationLive } from "./auth.js"
import { answerClientErrors } from "./client-errors.js"
import { answerWhileUnattached } from "./startup-gate.js"
import { DatabaseFile } from "./database-file.js"
import { drainOnShutdown, InFlight, type Listener } from "./drain.js"
import type { ServerConfig } from "./config.js"
import { apiEdge, edge, shapeAnswers } from "./edge.js"
import { boundedMemoryStore, KnownKeys, RateLimitCounters, type RateLimitOptions } from "./rate-limit.js"
import { AccessLog } from "./log.js"
import { OpsLive } from "./ops.js"
import { EventsLive } from "./events.js"
import { PathIdsLive, PersonaLive } from "./persona.js"
import { WebhooksLive } from "./webhooks.js"
import { dispatcherInBackground, webhooksLayer } from "@acct/webhooks"
import { SoftwareOneLive } from "./softwareone.js"

const apiLive = (rateLimit: RateLimitOptions) =>
  HttpApiBuilder.api(AcctApi).pipe(
    Layer.provide([PersonaLive, EventsLive, WebhooksLive, SoftwareOneLive, OpsLive]),
    Layer.provide([AuthenticationLive(rateLimit), ProblemAuthenticationLive(rateLimit), PathIdsLive])
  )

/** First-start work: the bootstrap admin key, and the demo data in a new database. */
const prepareStore = (config: ServerConfig) =>
  Layer.effectDiscard(
    withStartupLock(Effect.gen(function* () {
      if (Option.isSome(config.bootstrapKey)) {
        const keys = yield* ApiKeys
        yield* keys.ensure({ secret: Redacted.value(config.bootstrapKey.value), name: "bootstrap admin", scopes: ["admin"] })
      }
      if (config.seedDemo) {
        const accounts = yield* Accounts
        if ((yield* accounts.listTypes()).length === 0) {
          yield* loadCatalog(Either.getOrThrow(parseCatalog(JSON.stringify(demoCatalog), "demo catalog", "json")), "demo catalog")
          const created = yield* seedDemoAccounts
          yield* Effect.logInfo("seeded the demo catalog").pipe(Effect.annotateLogs({ accounts: created }))
        }
      }
    }))
  )

/**
 * Where the accounts live (@acct/backend decides, as for the CLI and Slack): the database, or in
 * gateway mode an upstream (whose calls carry the profile's credentials, so acct checks each
 * caller's scopes itself before passing a change on).
 */
const accountsFor = (config: ServerConfig) =>
  Effect.gen(function* () {
    const backend = yield* resolveBackend({ frontEnd: false, profile: Option.getOrUndefined(config.profile), database: config.database })
    const database = backend.database
    // A server runs for long: it takes over imports a stopped process left unfinished.
    const store = localStore(database, {
      maxConnections: config.dbPoolSize,
      statementTimeoutMs: config.dbStatementTimeoutMs,
      connectRetryWindow: Duration.seconds(config.dbConnectRetrySeconds)
    }).pipe(
      Layer.provide(Layer.succeed(ResumeInterruptedImports, true))
    )
    if (backend.kind === "local") return { store, database, gateway: false, ids: idOwnerOf(backend) }
    yield* Effect.logInfo("gateway mode").pipe(Effect.annotateLogs({ profile: backend.profile.name, provider: backend.profile.provider, upstream: backend.profile.url }))
    // Keyed changes are recorded in the gateway's own database: the upstream may keep no record
    // (SoftwareOne) and its change cannot share a local transaction (gateway-idempotency.ts).
    const upstream = Layer.effect(Accounts, Effect.flatMap(Accounts, (accounts) => Effect.map(withGatewayIdempotency(accounts), withPolicy))).pipe(
      Layer.provide(upstreamAccounts(backend.profile)),
      Layer.provide(store)
    )
    return { store: Layer.merge(store, upstream), database, gateway: true, ids: idOwnerOf(backend) }
  })

/**
 * Everything but the listening socket and where the access log goes: provide an HttpServer
 * (real or test) and an AccessLog to run it.
 * `listener` lets a graceful shutdown stop accepting and close what clients leave open.
 */
export const appLayer = (config: ServerConfig, listener?: Listener) => {
  const edgeOptions = { maxBodyBytes: config.maxBodyBytes, maxImportBytes: config.maxImportBytes, rateLimit: config.rateLimit }
  const shutdown = { grace: Duration.seconds(config.shutdownGraceSeconds), readinessDelay: Duration.seconds(config.shutdownReadinessDelaySeconds) }
  return Layer.unwrapEffect(
    Effect.map(accountsFor(config), ({ store, database, gateway, ids }) =>
      drainOnShutdown(shutdown, listener).pipe(
        // Built after (so released before) the server: see drain.ts.
        Layer.provideMerge(shapeAnswers(HttpApiBuilder.serve(edge(edgeOptions)))),
        Layer.provide(HttpApiScalar.layer({ path: "/docs" })),
        Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
        Layer.provide(apiEdge(edgeOptions)),
        Layer.provide(apiLive({ perMinute: config.rateLimit })),
        Layer.provide(Layer.succeed(BackendIds, ids)),
        // An upstream has its own catalog and accounts: nothing to seed.
        Layer.provide(prepareStore({ ...config, seedDemo: config.seedDemo && !gateway })),
        // One server on SQLite counts in memory; replicas sharing Postgres count in the database.
        Layer.provideMerge(isPostgresUrl(database) ? SqlRateLimiterStore : (boundedMemoryStore as Layer.Layer<RateLimiter.RateLimiterStore, never, RateLimitCounters | SqlClient.SqlClient>)),
        Layer.provideMerge(RateLimitCounters.layer),
        Layer.provideMerge(KnownKeys.layer),
        // Webhook deliveries run beside the requests, on the same store (not in gateway mode:
        // the events are the upstream's).
        Layer.provideMerge(gateway ? Layer.empty : dispatcherInBackground),
        Layer.provideMerge(webhooksLayer(database)),
        Layer.provideMerge(DatabaseFile.layer(database)),
        Layer.provideMerge(store),
        Layer.provideMerge(InFlight.layer),
        // No span exporter is configured, so tracing only cost time: a span per request (with
        // every header copied into it) and one per SQL statement, for nobody (≈ 10–15 % of a
        // GET's CPU). The request id and the access log cover what operators need; turn these
        // back on together with an exporter.
        HttpMiddleware.withTracerDisabledWhen(() => true),
        Layer.provide(Layer.setTracerEnabled(false))
      )
    )
  )
}

export const serverLayer = (config: ServerConfig) => {
  const server = answerWhileUnattached(answerClientErrors(createServer()))
  const listener: Listener = { stopAccepting: () => void server.close(), closeAll: () => server.closeAllConnections() }
  return appLayer(config, listener).pipe(
    Layer.provide(AccessLog.stdout),
    HttpServer.withLogAddress,
    Layer.provide(NodeHttpServer.layer(() => server, { port: config.port, host: config.host }))
  )
}
