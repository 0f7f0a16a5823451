/**
 * `key=value` words from the command line, typed by a schema: `status=activated`,
 * `count=3`, `name.first=Jane` (dotted keys reach into hash fields), `ids='[…]'` (JSON for
 * hashes and arrays).
 */
import { Either } from "effect"
import { InvalidRequest } from "./errors.js"
import { type FieldSchema, parseText } from "./fields.js"

export const splitAssignment = (word: string): Either.Either<readonly [key: string, value: string], InvalidRequest> => {
  const at = word.indexOf("=")
  if (at <= 0) {
    return Either.left(new InvalidRequest({ message: `expected key=value, got ${JSON.stringify(word)}`, issues: [{ path: [word], message: "expected key=value" }] }))
  }
  return Either.right([word.slice(0, at), word.slice(at + 1)] as const)
}

/** Builds a (possibly nested) object from assignments, typing each leaf by its schema when known. */
export const assign = (
  schemas: ReadonlyArray<FieldSchema>,
  words: ReadonlyArray<string>
): Either.Either<Record<string, unknown>, InvalidRequest> => {
  const out: Record<string, unknown> = {}
  for (const word of words) {
    const split = splitAssignment(word)
    if (Either.isLeft(split)) return Either.left(split.left)
    const [key, text] = split.right
    const path = key.split(".")
    let level: Record<string, unknown> = out
    let schemasHere: ReadonlyArray<FieldSchema> | undefined = schemas
    for (const [i, part] of path.entries()) {
      const schema: FieldSchema | undefined = schemasHere?.find((s) => s.key === part)
      if (i === path.length - 1) {
        level[part] = schema ? parseText(schema, text) : text
      } else {
        const next = level[part]
        level = (typeof next === "object" && next !== null ? next : (level[part] = {})) as Record<string, unknown>
        schemasHere = schema?.fields
      }
    }
  }
  return Either.right(out)
}
