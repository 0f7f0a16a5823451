/**
 * `Idempotency-Key` for POST, PATCH and DELETE, as Persona and Stripe define it: the first
 * response to a key (status and body) is kept 24 hours per caller and replayed to every repeat
 * with `Idempotent-Replayed: true`; the key on a different request is a 422; a repeat arriving
 * while the first is still running is a 409. Records live in the database, so they survive
 * restarts. Responses that say the request never ran (400, 401, 403, 413, 429, 5xx) are not kept,
 * so a corrected or later retry can still go through.
 */
import { bodyFingerprint, IDEMPOTENCY_TTL_MS, isIdempotencyKey, randomAlphanumeric } from "@acct/core"
import { HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect, FiberRef } from "effect"
import { errorResponse } from "./error-body.js"
import { bearerToken } from "./bearer.js"
import { sha256 } from "./hash.js"
import { currentRequest } from "./request-context.js"

/**
 * A pending record older than this (ACCT_IDEMPOTENCY_STALE_SECONDS) belongs to a request whose
 * server died; it stops blocking retries. Re-running is then safe: the store keeps the same key
 * in the same transaction as the change, so a change that did commit is replayed, not repeated.
 */

/** Success, or a refusal by the operation itself (not found, conflict, unprocessable). */
export const isStored = (status: number) => (status >= 200 && status < 400) || status === 404 || status === 409 || status === 422

interface Row {
  readonly request_hash: string
  readonly state: string
  readonly status: number | null
  readonly body: string | null
  readonly created_at: string
  readonly expires_at: string
}

export type Claim =
  /** No key, or not a method that needs one: run as usual. */
  | { readonly _tag: "None" }
  /** Answer this without running the request. */
  | { readonly _tag: "Answer"; readonly response: HttpServerResponse.HttpServerResponse }
  /** Run the request; then `settle` its response. */
  | { readonly _tag: "Run"; readonly settle: (response: HttpServerResponse.HttpServerResponse) => Effect.Effect<void>; readonly release: Effect.Effect<void> }

export const claim = (request: HttpServerRequest.HttpServerRequest, body: string, requestId: string, staleAfterMs: number) =>
  Effect.gen(function* () {
    const refuse = (status: number, title: string, detail: string): Claim => ({ _tag: "Answer", response: errorResponse(request.url, requestId, status, title, detail) })
    const key = request.headers["idempotency-key"]
    if (key === undefined || !["POST", "PATCH", "DELETE"].includes(request.method)) return { _tag: "None" } as Claim
    if (!isIdempotencyKey(key)) {
      return refuse(400, "Bad Request", "Idempotency-Key must be 1–255 visible ASCII characters")
    }
    const bearer = bearerToken(request.headers.authorization)
    if (bearer === undefined) return { _tag: "None" } as Claim // refused as unauthenticated anyway
    const sql = yield* SqlClient.SqlClient
    const caller = sha256(bearer)
    // Core's fingerprint: the same JSON with its keys in another order is the same request.
    const hash = bodyFingerprint(`${request.method} ${request.url}`, body)
    const now = Date.now()

    const existing = (yield* sql<Row>`SELECT * FROM http_idempotency WHERE caller = ${caller} AND idempotency_key = ${key}`)[0]
    if (existing && existing.expires_at > new Date(now).toISOString()) {
      if (existing.request_hash !== hash) {
        return refuse(422, "Unprocessable entity", `Idempotency-Key ${JSON.stringify(key)} was already used with a different request; use a new key for a new request`)
      }
      if (existing.state === "done") {
        const replay = HttpServerResponse.text(existing.body ?? "", { status: existing.status ?? 200, contentType: "application/json" }).pipe(
          HttpServerResponse.setHeader("idempotent-replayed", "true")
        )
        return { _tag: "Answer", response: replay } as Claim
      }
      if (now - Date.parse(existing.created_at) < staleAfterMs) {
        return refuse(409, "Conflict", `a request with Idempotency-Key ${JSON.stringify(key)} is still in flight; retry shortly`)
      }
    }
    const token = randomAlphanumeric(16)
    const createdAt = new Date(now).toISOString()
    // Insert, or take over an expired or stale record; the primary key makes concurrent claims race safely.
    const claimed = yield* sql<{ caller: string }>`
      INSERT INTO http_idempotency (caller, idempotency_key, request_hash, state, status, body, created_at, expires_at)
      VALUES (${caller}, ${key}, ${hash}, ${`pending:${token}`}, NULL, NULL, ${createdAt}, ${new Date(now + IDEMPOTENCY_TTL_MS).toISOString()})
      ON CONFLICT (caller, idempotency_key) DO UPDATE SET
        request_hash = excluded.request_hash, state = excluded.state, status = NULL, body = NULL,
        created_at = excluded.created_at, expires_at = excluded.expires_at
      WHERE http_idempotency.expires_at <= ${createdAt} OR (http_idempotency.state LIKE 'pending:%' AND http_idempotency.created_at <= ${new Date(now - staleAfterMs).toISOString()})
      RETURNING caller`
    if (claimed.length === 0) {
      return refuse(409, "Conflict", `a request with Idempotency-Key ${JSON.stringify(key)} is still in flight; retry shortly`)
    }
    const mine = sql`caller = ${caller} AND idempotency_key = ${key} AND state = ${`pending:${token}`}`
    const release = sql`DELETE FROM http_idempotency WHERE ${mine}`.pipe(Effect.ignore)
    const settle = (response: HttpServerResponse.HttpServerResponse) =>
      isStored(response.status) && response.body._tag === "Uint8Array"
        ? sql`UPDATE http_idempotency SET state = 'done', status = ${response.status}, body = ${new TextDecoder().decode(response.body.body)} WHERE ${mine}`.pipe(Effect.ignore)
        : release
    return { _tag: "Run", settle, release } as Claim
  }).pipe(
    // If the record store fails, answer 503 rather than run a request we could not make safe.
    Effect.catchTag("SqlError", () =>
      Effect.succeed<Claim>({ _tag: "Answer", response: errorResponse(request.url, requestId, 503, "Service unavailable", "idempotency records are unavailable; retry shortly") })
    )
  )

/**
 * The middleware: answers a replay or a refusal without running the request, or runs it and
 * keeps its final response (as the client will receive it) for the key.
 */
export const idempotency =
  (options: { readonly staleAfterMs: number }) =>
  <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      if (request.headers["idempotency-key"] === undefined) return yield* app
      // The body was read once already (request-body.ts); this is that text.
      const body = yield* Effect.orElseSucceed(request.text, () => "")
      const context = yield* FiberRef.get(currentRequest)
      const claimed = yield* claim(request, body, context?.id ?? "", options.staleAfterMs)
      if (claimed._tag === "Answer") return claimed.response
      if (claimed._tag === "None") return yield* app
      yield* HttpApp.appendPreResponseHandler((_request, response) => Effect.as(claimed.settle(response), response))
      return yield* Effect.onInterrupt(app, () => claimed.release)
    })
