/**
 * Configuration documents people write (catalogs, profiles, Slack policies): YAML or JSON text,
 * decoded against a schema, with every problem named by file. A module of its own
 * (`@acct/core/document`) so that only the code reading such files loads a YAML parser.
 */
import { Either, Schema } from "effect"
import YAML from "yaml"
import { InvalidRequest, issuesOf } from "./errors.js"

/** The text as data; `.json` files are JSON, anything else YAML (which JSON is part of). */
export const parseDocument = (text: string, source: string, format: "yaml" | "json" = source.endsWith(".json") ? "json" : "yaml"): Either.Either<unknown, InvalidRequest> => {
  try {
    return Either.right(format === "json" ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true }))
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "unreadable"
    return Either.left(new InvalidRequest({ message: `${source}: not valid ${format.toUpperCase()}: ${message}`, issues: [{ path: [], message }] }))
  }
}

/**
 * Data decoded against `schema`, unknown keys refused, every problem reported as
 * `file: what: path: problem; …` (`what` says what the file should be, e.g. "invalid policy").
 */
export const decodeDocument = <A, I>(schema: Schema.Schema<A, I>, raw: unknown, source: string, what = "invalid"): Either.Either<A, InvalidRequest> =>
  Schema.decodeUnknownEither(schema, { onExcessProperty: "error", errors: "all" })(raw).pipe(
    Either.mapLeft((e) => {
      const issues = issuesOf(e)
      return InvalidRequest.fromIssues(issues, `${source}: ${what}`)
    })
  )
