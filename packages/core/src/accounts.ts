/**
 * The Accounts port: everything an app can do to accounts. The embedded store, the HTTP client
 * and the upstream providers each implement it; apps only ever talk to this interface.
 */
import { Context, type Effect } from "effect"
import type { Account, AccountRef, ActionRun, Page } from "./account.js"
import type { AccountAction, AccountType, LifecycleOperation } from "./catalog.js"
import type { AccountsError } from "./errors.js"
import type { Parameters } from "./engine.js"
import type { ActionRunId, ImporterId } from "./ids.js"
import type { Importer, ImportRowError } from "./importer.js"
import type { SearchAccountsQuery } from "./search.js"
import type { Actor, Channel, Principal } from "./principal.js"

export const PAGE_SIZE_DEFAULT = 10
export const PAGE_SIZE_MAX = 100

export interface PageQuery {
  /** Opaque cursors from a previous page's `next` / `prev`. */
  readonly after?: string | undefined
  readonly before?: string | undefined
  /** 1–100, default 10. */
  readonly size?: number | undefined
}

export interface ListAccountsQuery extends PageQuery {
  /** One reference id, or several (an account with any of them). */
  readonly referenceId?: string | ReadonlyArray<string> | undefined
  readonly status?: string | undefined
  readonly tag?: string | undefined
  /** Account type id or name. */
  readonly accountType?: string | undefined
  /** Consolidated (archived) sources are hidden unless asked for. */
  readonly includeArchived?: boolean | undefined
}

/** The targets of one relation of an account (Persona requires the key). */
export interface ListRelationsQuery extends PageQuery {
  readonly key: string
  /** Only relations made at or after / before this time. */
  readonly createdAtStart?: Date | undefined
  readonly createdAtEnd?: Date | undefined
}

/** A relation to add or remove: its key (a relation schema of the account's type) and its target. */
export interface RelationChange {
  readonly key: string
  readonly target: AccountRef
}

export interface ListRunsQuery extends PageQuery {
  readonly account?: AccountRef | undefined
}

/** Who asks, through which app, and the request's guarantees. */
export interface Invocation {
  /** Whose permissions apply (an API key, a Slack user, the CLI user). */
  readonly principal: Principal
  /**
   * The person a trusted front end acts for (Slack: `slack` `T…/U…`), recorded as the actor
   * with the principal as the key it came through. Naming anyone but the principal itself
   * needs the principal's `account.delegate` scope (policy.ts).
   */
  readonly onBehalfOf?: Actor | undefined
  readonly channel: Channel
  /** Same key, same request → the first result again; same key, other request → Unprocessable (see idempotency.ts). */
  readonly idempotencyKey?: string | undefined
  /**
   * Run when the answer is a replay of the key's recorded result rather than a new change, e.g.
   * so the HTTP layer can send `Idempotent-Replayed: true` from the store's single record.
   */
  readonly onReplay?: Effect.Effect<void> | undefined
  /** Refuse with Conflict unless the account is still at this version (optimistic concurrency). */
  readonly expectedVersion?: number | undefined
  /** Free text kept in the audit trail ("customer asked by ticket #123"). */
  readonly reason?: string | undefined
  readonly requestId?: string | undefined
}

export interface CreateAccountInput {
  /** Account type id or name. */
  readonly accountType: string
  readonly referenceId?: string | null | undefined
  readonly status?: string | undefined
  readonly fields?: Readonly<Record<string, unknown>> | undefined
  readonly tags?: ReadonlyArray<string> | undefined
}

export interface UpdateAccountInput {
  readonly referenceId?: string | null | undefined
  /** A merge patch of the fields (see fields-merge.ts). */
  readonly fields?: Readonly<Record<string, unknown>> | undefined
  /** A status of the account's type. */
  readonly status?: string | undefined
  /** The account's tags from now on (all of them), changed in the same step as the rest. */
  readonly tags?: ReadonlyArray<string> | undefined
}

/** Tags to add and to remove, applied together as one change. */
export interface TagChanges {
  readonly add?: ReadonlyArray<string> | undefined
  readonly remove?: ReadonlyArray<string> | undefined
}

/** A CSV file for Persona's account importer (see importer.ts for its columns). */
export interface ImportAccountsInput {
  readonly csv: string
  /** Account type id or name; default: the catalog's default type, or its only one. */
  readonly accountType?: string | undefined
}

export interface RunResult {
  readonly account: Account
  readonly run: ActionRun
}

export type AccountsEffect<A> = Effect.Effect<A, AccountsError>

export interface AccountsService {
  readonly list: (query: ListAccountsQuery) => AccountsEffect<Page<Account>>
  /** Persona's search: and/or/not over type, status, dates, reference id, tags and searchable fields (search.ts). */
  readonly search: (query: SearchAccountsQuery) => AccountsEffect<Page<Account>>
  readonly get: (ref: AccountRef) => AccountsEffect<Account>
  readonly create: (input: CreateAccountInput, invocation: Invocation) => AccountsEffect<Account>
  readonly update: (ref: AccountRef, input: UpdateAccountInput, invocation: Invocation) => AccountsEffect<Account>
  /** Wipes every field value and sets redacted-at; the account itself stays. Irreversible. */
  readonly redact: (ref: AccountRef, invocation: Invocation) => AccountsEffect<Account>
  readonly addTag: (ref: AccountRef, tag: string, invocation: Invocation) => AccountsEffect<Account>
  readonly removeTag: (ref: AccountRef, tag: string, invocation: Invocation) => AccountsEffect<Account>
  /**
   * Adds and removes several tags as one change: one version step and one audit entry, or
   * nothing at all (a pinned version that moved, an invalid tag, a tag both added and removed).
   */
  readonly changeTags: (ref: AccountRef, changes: TagChanges, invocation: Invocation) => AccountsEffect<Account>
  readonly setTags: (ref: AccountRef, tags: ReadonlyArray<string>, invocation: Invocation) => AccountsEffect<Account>
  /** Merges the sources' fields and tags into the destination; the sources are archived. */
  readonly consolidate: (destination: AccountRef, sources: ReadonlyArray<AccountRef>, invocation: Invocation) => AccountsEffect<Account>
  /** The accounts `ref` relates to under `query.key`, most recently related first. */
  readonly listRelations: (ref: AccountRef, query: ListRelationsQuery) => AccountsEffect<Page<Account>>
  /** Relates the account to a target, per its type's relation schema; relating twice changes nothing. */
  readonly addRelation: (ref: AccountRef, relation: RelationChange, invocation: Invocation) => AccountsEffect<Account>
  /** Removes one relation; NotFound when the account has no such relation. */
  readonly removeRelation: (ref: AccountRef, relation: RelationChange, invocation: Invocation) => AccountsEffect<Account>
  readonly lifecycle: (ref: AccountRef, operation: LifecycleOperation, invocation: Invocation) => AccountsEffect<RunResult>
  /** Runs a configured action, by id or by name. */
  readonly runAction: (ref: AccountRef, action: string, parameters: Parameters, invocation: Invocation) => AccountsEffect<RunResult>
  readonly listTypes: () => AccountsEffect<ReadonlyArray<AccountType>>
  readonly getType: (idOrName: string) => AccountsEffect<AccountType>
  readonly listActions: (query?: { readonly accountType?: string | undefined }) => AccountsEffect<ReadonlyArray<AccountAction>>
  readonly getAction: (idOrName: string) => AccountsEffect<AccountAction>
  /**
   * Starts importing a CSV file: checks it as a whole (refused with nothing done when its header
   * or syntax is wrong) and answers the importer, `pending`; its rows are then imported in the
   * background (each row: created, a duplicate, or errors), watched with `getImporter`.
   */
  readonly importAccounts: (input: ImportAccountsInput, invocation: Invocation) => AccountsEffect<Importer>
  readonly getImporter: (id: ImporterId) => AccountsEffect<Importer>
  /** Importers, newest first. */
  readonly listImporters: (query: PageQuery) => AccountsEffect<Page<Importer>>
  /** An importer's row errors in file order; cursors are opaque. */
  readonly listImportErrors: (id: ImporterId, query: PageQuery) => AccountsEffect<Page<ImportRowError>>
  readonly listRuns: (query: ListRunsQuery) => AccountsEffect<Page<ActionRun>>
  readonly getRun: (id: ActionRunId) => AccountsEffect<ActionRun>
}

export class Accounts extends Context.Tag("@acct/core/Accounts")<Accounts, AccountsService>() {}
