/**
 * Webhook endpoints (Persona's `webhook` resource): where events are POSTed, which events, in
 * which key inflection, without which attributes. The signing secret (`wbhsec_…`) is shown once,
 * when made (create, clone, rotate-secret); the store keeps it encrypted.
 */
import { Context, type Effect, Schema } from "effect"
import type { AccountsError, InvalidRequest, Issue } from "./errors.js"
import type { Page } from "./account.js"
import type { PageQuery } from "./accounts.js"
import { WebhookId } from "./ids.js"

export const KeyInflection = Schema.Literal("kebab", "camel", "snake")
export type KeyInflection = typeof KeyInflection.Type

/** `enabled`: events are delivered; `disabled`: not (a new webhook starts so); `archived`: for good. */
export const WebhookStatus = Schema.Literal("enabled", "disabled", "archived")
export type WebhookStatus = typeof WebhookStatus.Type

/** The Persona API version webhooks are sent in unless the endpoint names another. */
export const WEBHOOK_API_VERSION = "2025-12-08"

export class Webhook extends Schema.Class<Webhook>("Webhook")({
  id: WebhookId,
  name: Schema.String,
  url: Schema.String,
  description: Schema.NullOr(Schema.String),
  status: WebhookStatus,
  /** Event names, or `*` for all. */
  enabledEvents: Schema.Array(Schema.String),
  keyInflection: KeyInflection,
  /** Attribute names (`name-last`, `address-*`) or paths (`/data/attributes/fields/*-number`) left out of bodies. */
  attributesBlocklist: Schema.Array(Schema.String),
  apiVersion: Schema.String,
  createdAt: Schema.Date,
  updatedAt: Schema.Date,
  /** Since when every attempt failed (null while deliveries succeed); 5 days of it disables the webhook. */
  failingSince: Schema.NullOr(Schema.Date),
  /** Why acct disabled it (410 Gone, 5 days of failures), or null. */
  disabledReason: Schema.NullOr(Schema.String)
}) {
  /** Whether events named `name` go to this webhook. */
  wants(name: string): boolean {
    return this.status === "enabled" && (this.enabledEvents.includes("*") || this.enabledEvents.includes(name))
  }
}

/** One delivery attempt, as logged: when, how it ended, how long it took, the answer's start. */
export interface WebhookAttempt {
  readonly deliveryId: string
  readonly webhookId: string
  readonly eventId: string
  /** 1 for the first attempt of the delivery. */
  readonly attempt: number
  readonly startedAt: Date
  readonly durationMs: number
  /** The receiver's HTTP status; null when it gave no answer (see error). */
  readonly status: number | null
  readonly error: string | null
  /** The first KB of the answer's body. */
  readonly response: string | null
}

export interface WebhookSecret {
  readonly value: string
  /** When a rotated-out secret stops being used; null for the current one. */
  readonly expiresAt: Date | null
}

export interface WebhookWithSecrets {
  readonly webhook: Webhook
  /** The current secret first. */
  readonly secrets: ReadonlyArray<WebhookSecret>
}

export interface WebhookChanges {
  readonly name?: string | undefined
  readonly url?: string | undefined
  readonly description?: string | null | undefined
  readonly enabledEvents?: ReadonlyArray<string> | undefined
  readonly keyInflection?: KeyInflection | undefined
  readonly attributesBlocklist?: ReadonlyArray<string> | undefined
  readonly apiVersion?: string | undefined
}

export interface CreateWebhookInput extends WebhookChanges {
  readonly name: string
  readonly url: string
  readonly enabledEvents: ReadonlyArray<string>
}

/** Any of acct's errors: over HTTP a call may also be refused (401, 403) or limited (429). */
export type WebhooksError = AccountsError

/** How long a rotated-out secret still signs deliveries unless rotate-secret says otherwise. */
export const DEFAULT_SECRET_GRACE_SECONDS = 24 * 60 * 60

export interface WebhooksService {
  /** Checks the URL (scheme, and where its host resolves: see webhook-address.ts) before saving. */
  readonly create: (input: CreateWebhookInput) => Effect.Effect<WebhookWithSecrets, WebhooksError>
  readonly list: (query: PageQuery) => Effect.Effect<Page<Webhook>, WebhooksError>
  readonly get: (id: string) => Effect.Effect<Webhook, WebhooksError>
  readonly update: (id: string, changes: WebhookChanges) => Effect.Effect<Webhook, WebhooksError>
  readonly setStatus: (id: string, status: WebhookStatus, reason?: string) => Effect.Effect<Webhook, WebhooksError>
  /** A new disabled webhook with the same settings and a new secret. */
  readonly clone: (id: string) => Effect.Effect<WebhookWithSecrets, WebhooksError>
  /** A new current secret; the previous one keeps signing for `graceSeconds` (two signatures). */
  readonly rotateSecret: (id: string, graceSeconds?: number) => Effect.Effect<WebhookWithSecrets, WebhooksError>
}

/** The endpoints, as the webhooks API offers them: on the local store, or over HTTP to an acct server. */
export class Webhooks extends Context.Tag("@acct/core/Webhooks")<Webhooks, WebhooksService>() {}

/** The secrets that sign an endpoint's deliveries now, the current first, and when an older one among them expires. */
export interface SigningSecrets {
  readonly values: ReadonlyArray<string>
  /** Until then `values` hold (short of a rotation); null while none of them expires. */
  readonly until: Date | null
}

/** The stored signing secrets, where the database and its key are (never over the API). */
export interface WebhookSecretsService {
  /** Every secret that signs deliveries now (decrypted: for the dispatcher only). */
  readonly signing: (id: string) => Effect.Effect<SigningSecrets, WebhooksError>
  /** Re-encrypts every stored secret with the current key (after ACCT_WEBHOOK_KEY changed); answers how many. */
  readonly reencrypt: () => Effect.Effect<number, WebhooksError>
}

export class WebhookSecrets extends Context.Tag("@acct/core/WebhookSecrets")<WebhookSecrets, WebhookSecretsService>() {}

/** What to send again: one event, or every event since a time; to the webhooks that want it, or to one. */
export interface ReplayRequest {
  readonly eventId?: string | undefined
  readonly since?: Date | undefined
  readonly webhookId?: string | undefined
}

export interface ReplayResult {
  readonly events: number
  readonly deliveries: number
}

/** The delivery log and replays: on the local store, or over HTTP to an acct server. */
export interface WebhookDeliveriesService {
  /** An endpoint's latest attempts, newest first (`size` 1–100). */
  readonly attempts: (webhookId: string, size: number) => Effect.Effect<ReadonlyArray<WebhookAttempt>, WebhooksError>
  /** Queues new deliveries (the same `webhook-id` as the first time); the dispatcher sends them. */
  readonly replay: (request: ReplayRequest) => Effect.Effect<ReplayResult, WebhooksError>
}

export class WebhookDeliveries extends Context.Tag("@acct/core/WebhookDeliveries")<WebhookDeliveries, WebhookDeliveriesService>() {}

/**
 * The SSRF guard's check of a URL when an endpoint is saved: the rules of webhook-address.ts
 * applied to the URL and to every address its host resolves to now. (The dispatcher checks the
 * address again at each connection.)
 */
export class WebhookUrlGuard extends Context.Tag("@acct/core/WebhookUrlGuard")<
  WebhookUrlGuard,
  { readonly check: (url: string) => Effect.Effect<URL, InvalidRequest> }
>() {}

const EVENT_NAME = /^[a-z0-9][a-z0-9_-]*(?:\/[a-z0-9_-]+)?\.[a-z0-9][a-z0-9_.-]*$/

/** Enough problems to fix at once (500 bad event names are not 500 sentences). */
const MAX_SETTINGS_PROBLEMS = 20

/** Problems with an endpoint's settings (the URL aside), each at its setting (and list entry). */
export const webhookSettingsProblems = (changes: WebhookChanges): ReadonlyArray<Issue> => {
  const problems: Array<Issue> = []
  if (changes.name !== undefined && (changes.name.trim() === "" || changes.name.length > 200)) problems.push({ path: ["name"], message: "expected 1–200 characters" })
  if (changes.description != null && changes.description.length > 1000) problems.push({ path: ["description"], message: "at most 1,000 characters" })
  if (changes.enabledEvents !== undefined) {
    if (changes.enabledEvents.length === 0) problems.push({ path: ["enabled-events"], message: "name at least one event, or * for all" })
    if (changes.enabledEvents.length > 500) problems.push({ path: ["enabled-events"], message: "at most 500 names" })
    changes.enabledEvents.slice(0, 500).forEach((name, i) => {
      if (name !== "*" && !EVENT_NAME.test(name) && problems.length < MAX_SETTINGS_PROBLEMS) {
        problems.push({ path: ["enabled-events", i], message: `${JSON.stringify(name.slice(0, 100))} is not an event name (like account.created), nor *` })
      }
    })
  }
  if (changes.attributesBlocklist !== undefined) {
    if (changes.attributesBlocklist.length > 100) problems.push({ path: ["api-attributes-blocklist"], message: "at most 100 entries" })
    changes.attributesBlocklist.slice(0, 100).forEach((entry, i) => {
      if ((entry === "" || entry.length > 200) && problems.length < MAX_SETTINGS_PROBLEMS) problems.push({ path: ["api-attributes-blocklist", i], message: "expected 1–200 characters" })
    })
  }
  return problems
}
