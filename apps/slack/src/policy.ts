/**
 * Who may do what from Slack (ACCT_SLACK_POLICY, YAML or JSON). Everyone in an allowed
 * workspace may read (show, find, history); nobody may change anything until a grant says so.
 *
 *   teams: [T0123ABCD]                # optional: only these workspaces
 *   grants:
 *     - users: [U0123ABCD]            # Slack user ids
 *       groups: [S0123ABCD]           # Slack user-group ids
 *       scopes: [account.action, account.write]
 *       actions: [Set status]         # optional: limit `run` to these actions
 */
import { type InvalidRequest, Principal, Scope } from "@acct/core"
import { decodeDocument, parseDocument } from "@acct/core/document"
import { Either, Schema } from "effect"

/** `prefixes`: the letters such an id starts with, e.g. "UW" for users. */
const SlackId = (prefixes: string, what: string) =>
  Schema.String.pipe(Schema.pattern(new RegExp(`^[${prefixes}][A-Z0-9]{2,}$`), { message: () => `expected a Slack ${what} id (${[...prefixes].map((p) => `${p}…`).join(" or ")})` }))

export const Grant = Schema.Struct({
  users: Schema.optionalWith(Schema.Array(SlackId("UW", "user")), { default: () => [] }),
  groups: Schema.optionalWith(Schema.Array(SlackId("S", "user-group")), { default: () => [] }),
  scopes: Schema.Array(Scope),
  actions: Schema.optional(Schema.Array(Schema.String))
})

export const Policy = Schema.Struct({
  teams: Schema.optional(Schema.Array(SlackId("TE", "workspace"))),
  grants: Schema.optionalWith(Schema.Array(Grant), { default: () => [] })
})
export type Policy = typeof Policy.Type

export const defaultPolicy: Policy = { grants: [] }

/** An empty file is the default policy. */
export const parsePolicy = (text: string, source: string): Either.Either<Policy, InvalidRequest> =>
  Either.flatMap(parseDocument(text, source), (raw) => decodeDocument(Policy, raw ?? {}, source, "invalid Slack policy"))

export interface SlackUser {
  readonly teamId: string
  readonly userId: string
  /** The user groups the user belongs to (resolved through Slack's API when groups are used). */
  readonly groups: ReadonlyArray<string>
}

export interface Permissions {
  readonly principal: Principal
  /** Action names `run` may use; undefined means any. */
  readonly actions: ReadonlySet<string> | undefined
  /** Set when the workspace is not allowed at all. */
  readonly refused?: string | undefined
}

/** What the policy grants this user: reads for everyone, the rest by grant. */
export const permissionsOf = (policy: Policy, user: SlackUser): Permissions => {
  // Slack has deprecated user names: the actor is the team and user id, which Slack renders as the person.
  const actor = { kind: "slack" as const, id: `${user.teamId}/${user.userId}`, name: `slack:${user.teamId}/${user.userId}` }
  if (policy.teams && !policy.teams.includes(user.teamId)) {
    return { principal: Principal.make({ actor, scopes: [] }), actions: new Set(), refused: "this workspace is not allowed to use acct" }
  }
  const grants = policy.grants.filter((g) => g.users.includes(user.userId) || g.groups.some((group) => user.groups.includes(group)))
  const scopes = new Set<Scope>(["account.read", ...grants.flatMap((g) => g.scopes)])
  const unlimited = grants.some((g) => g.actions === undefined && (g.scopes.includes("account.action") || g.scopes.includes("admin")))
  const actions = unlimited ? undefined : new Set(grants.flatMap((g) => g.actions ?? []))
  return { principal: Principal.make({ actor, scopes: [...scopes] }), actions }
}

/** Whether any grant mentions user groups (then membership must be looked up). */
export const usesGroups = (policy: Policy) => policy.grants.some((g) => g.groups.length > 0)
