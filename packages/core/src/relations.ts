/**
 * Relations between accounts (Persona's relation schemas): an account type declares which
 * relations its accounts may have — a key, the account type of the target, and how many targets
 * (`one` or `many`). The rules for adding one, and for what a consolidation carries over, are
 * pure functions here; the store applies them inside its one mutation path.
 */
import { Either, Schema } from "effect"
import type { Account } from "./account.js"
import type { AccountType } from "./catalog.js"
import { Conflict, InvalidState, NotFound, Unprocessable } from "./errors.js"

export const RelationCardinality = Schema.Literal("one", "many").annotations({
  message: (issue) => ({ message: `expected "one" or "many", got ${JSON.stringify(issue.actual)}`, override: true })
})
export type RelationCardinality = typeof RelationCardinality.Type

/** A relation schema as an account type declares it in the catalog. */
export const RelationSchema = Schema.Struct({
  key: Schema.String.pipe(Schema.pattern(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, { message: () => "a relation key is a letter followed by up to 63 letters, digits, _ or -" })),
  label: Schema.optional(Schema.String),
  /** The name of the account type every target must be. */
  targetType: Schema.String.pipe(Schema.minLength(1, { message: () => "must name an account type" })),
  /** `one`: at most one target under this key; `many`: any number. */
  cardinality: Schema.optionalWith(RelationCardinality, { default: () => "many" as const })
})
export type RelationSchema = typeof RelationSchema.Type

/** One relation of an account: under `key`, to the account `targetId`. */
export interface Relation {
  readonly key: string
  readonly targetId: string
  readonly createdAt: Date
}

/** The type's relation schema for `key`, or a refusal that lists the keys it has. */
export const relationSchemaFor = (type: AccountType, key: string): Either.Either<RelationSchema, Unprocessable> => {
  const schema = type.relations.find((r) => r.key === key)
  if (schema) return Either.right(schema)
  const known = type.relations.map((r) => r.key)
  const message = `relation-schema-key: ${type.name} accounts have ${known.length === 0 ? "no relations" : `the relations ${known.join(", ")}`}; got ${JSON.stringify(key.slice(0, 64))}`
  return Either.left(new Unprocessable({ message, issues: [{ path: ["meta", "relation-schema-key"], message: known.length === 0 ? "this account type declares no relations" : `expected one of ${known.join(", ")}` }] }))
}

const targetIssue = (message: string) => [{ path: ["meta", "target-object-id"], message }]

/**
 * Whether `source` may gain the relation `schema` to `target`, given its current targets under
 * that key. `unchanged` when it already has it (adding twice is not an error).
 */
export const checkNewRelation = (
  schema: RelationSchema,
  source: Account,
  target: Account,
  currentTargets: ReadonlyArray<string>
): Either.Either<"add" | "unchanged", Unprocessable | Conflict | InvalidState> => {
  if (target.id === source.id) {
    return Either.left(new Unprocessable({ message: `target-object-id: an account cannot be related to itself (${source.id})`, issues: targetIssue("the account itself") }))
  }
  if (target.accountTypeName !== schema.targetType) {
    return Either.left(
      new Unprocessable({
        message: `target-object-id: the relation ${schema.key} points to ${schema.targetType} accounts; ${target.id} is a ${target.accountTypeName}`,
        issues: targetIssue(`expected a ${schema.targetType} account`)
      })
    )
  }
  if (target.consolidatedInto !== null) {
    return Either.left(new InvalidState({ currentStatus: target.status, message: `target-object-id: account ${target.id} was consolidated into ${target.consolidatedInto}; relate that account instead` }))
  }
  if (currentTargets.includes(target.id)) return Either.right("unchanged")
  if (schema.cardinality === "one" && currentTargets.length > 0) {
    return Either.left(
      new Conflict({ message: `the relation ${schema.key} holds one account and already points to ${currentTargets[0]}; remove that relation first` })
    )
  }
  return Either.right("add")
}

/** Refuses a target id that cannot name an account (Persona also relates transactions: acct does not). */
export const checkTargetId = (text: string): Either.Either<string, Unprocessable> =>
  /^act_[A-Za-z0-9]{24,28}$/.test(text)
    ? Either.right(text)
    : Either.left(
        new Unprocessable({
          message: `target-object-id: expected an account id ("act_" followed by 24–28 letters or digits), got ${JSON.stringify(text.slice(0, 60))}${text.startsWith("txn_") ? "; relations to transactions are not available in acct" : ""}`,
          issues: targetIssue("expected an account id")
        })
      )

export const relationNotFound = (source: string, key: string, target: string) =>
  new NotFound({ entity: "relation", ref: `${key}:${target}`, message: `account ${source} has no relation ${key} to ${target}` })

/**
 * What a consolidation leaves the destination with, for one key: its own targets first, then the
 * sources' (never the destination itself or a source being merged away, never twice); a `one`
 * relation keeps the destination's target when it has one, as its field values win.
 */
export const mergeRelationTargets = (
  schema: RelationSchema | undefined,
  destinationId: string,
  merged: ReadonlyArray<string>,
  own: ReadonlyArray<string>,
  fromSources: ReadonlyArray<string>
): ReadonlyArray<string> => {
  const result = [...own]
  for (const target of fromSources) {
    if (target === destinationId || merged.includes(target) || result.includes(target)) continue
    if (schema?.cardinality === "one" && result.length > 0) continue
    result.push(target)
  }
  return result
}

/** A relation as a row: `accountId` relates to `targetId` under `key`. */
export interface RelationRow {
  readonly accountId: string
  readonly key: string
  readonly targetId: string
}

/** A relation an account gained or lost. */
export interface RelationMove extends RelationRow {
  readonly change: "added" | "removed"
}

/**
 * Every relation a consolidation adds or removes, account by account, so that each account it
 * changes gets its events, audit entry and version step. The rules (which the store's
 * statements apply): the destination gains the `merged` targets it lacked; the sources lose all
 * of theirs (`sourceRows`); a relation another account has to a source (`inbound`, in the order
 * they were made, sources in turn) is lost, and names the destination instead unless that
 * account already relates to it under the key (`toDestination`, or an earlier re-pointing) or
 * is the destination itself.
 */
export const consolidationRelationMoves = (input: {
  readonly destinationId: string
  readonly sourceIds: ReadonlyArray<string>
  readonly own: ReadonlyMap<string, ReadonlyArray<string>>
  readonly merged: ReadonlyMap<string, ReadonlyArray<string>>
  readonly sourceRows: ReadonlyArray<RelationRow>
  readonly inbound: ReadonlyArray<RelationRow>
  readonly toDestination: ReadonlyArray<RelationRow>
}): ReadonlyArray<RelationMove> => {
  const moves: Array<RelationMove> = []
  for (const [key, targets] of input.merged) {
    const have = input.own.get(key) ?? []
    for (const targetId of targets) if (!have.includes(targetId)) moves.push({ accountId: input.destinationId, key, targetId, change: "added" })
  }
  for (const row of input.sourceRows) moves.push({ ...row, change: "removed" })
  const pointsAtDestination = new Set(input.toDestination.map((row) => `${row.accountId}\u0000${row.key}`))
  for (const sourceId of input.sourceIds) {
    for (const row of input.inbound) {
      if (row.targetId !== sourceId) continue
      moves.push({ ...row, change: "removed" })
      const pair = `${row.accountId}\u0000${row.key}`
      if (row.accountId === input.destinationId || pointsAtDestination.has(pair)) continue
      pointsAtDestination.add(pair)
      moves.push({ accountId: row.accountId, key: row.key, targetId: input.destinationId, change: "added" })
    }
  }
  return moves
}
