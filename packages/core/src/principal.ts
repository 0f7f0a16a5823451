/**
 * Who acts, and what they may do. Every mutation names its actor; scopes are checked per
 * operation before anything is read or written.
 */
import { Schema } from "effect"
import { Forbidden } from "./errors.js"

export const Scope = Schema.Literal("account.read", "account.write", "account.action", "account.redact", "webhook.read", "webhook.write", "admin")
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

/** Which app an operation came through; kept in the audit trail. */
export const Channel = Schema.Literal("cli", "http", "slack", "library")
export type Channel = typeof Channel.Type
