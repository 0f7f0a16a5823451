/**
 * Who acts, and what they may do. Every mutation names its actor; scopes are checked per
 * operation before anything is read or written.
 */
import { Schema } from "effect"
import { Forbidden } from "./errors.js"

/**
 * `account.delegate`: the key belongs to a trusted front end (the Slack app) and may name the
 * person it acts for (`Invocation.onBehalfOf`), who is then recorded as the actor.
 */
export const Scope = Schema.Literal("account.read", "account.write", "account.action", "account.redact", "account.delegate", "webhook.read", "webhook.write", "admin")
export type Scope = typeof Scope.Type
export const allScopes: ReadonlyArray<Scope> = Scope.literals

export const ActorKind = Schema.Literal("api-key", "slack", "cli", "system")

/** The identity recorded on runs and audit entries. */
export const Actor = Schema.Struct({
  kind: ActorKind,
  /** Stable id: key id, `T123/U456` for Slack, the OS user for the CLI. */
  id: Schema.String,
  name: Schema.String
})
export type Actor = typeof Actor.Type

export class Principal extends Schema.Class<Principal>("Principal")({
  actor: Actor,
  scopes: Schema.Array(Scope)
}) {
  can(scope: Scope): boolean {
    return this.scopes.includes("admin") || this.scopes.includes(scope)
  }
}

export const requireScope = (principal: Principal, scope: Scope, doing: string): Forbidden | undefined =>
  principal.can(scope)
    ? undefined
    : new Forbidden({ missingScope: scope, message: `${principal.actor.name} may not ${doing}: missing scope ${scope}` })

/** The kinds of actor a front end may act for: people, never another key or the system. */
export const PersonKind = Schema.Literal("slack", "cli")

/**
 * Who acted and through what: the person a delegating key named, with the key as `via`;
 * otherwise the principal itself.
 */
export const actingActors = (invocation: { readonly principal: Principal; readonly onBehalfOf?: Actor | undefined }): { readonly actor: Actor; readonly via: Actor | null } =>
  invocation.onBehalfOf === undefined || sameActor(invocation.onBehalfOf, invocation.principal.actor)
    ? { actor: invocation.principal.actor, via: null }
    : { actor: invocation.onBehalfOf, via: invocation.principal.actor }

export const sameActor = (a: Actor, b: Actor) => a.kind === b.kind && a.id === b.id

/** Which app an operation came through; kept in the audit trail. */
export const Channel = Schema.Literal("cli", "http", "slack", "library")
export type Channel = typeof Channel.Type
