/**
 * Error schemas for HttpApi whose encoded form is exactly a foreign wire format. HttpApi picks
 * the schema that encodes a failure by testing each one's type side, so that side is an
 * `instanceof` check: error classes with identical shapes (all Persona errors look alike) are
 * still told apart by class, and no tag of ours leaks into the body.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

export const wireError = <C, I>(
  Ctor: abstract new (...args: never) => C,
  body: Schema.Schema<I>,
  codec: { readonly decode: (body: I) => C; readonly encode: (error: C) => I },
  options: { readonly status: number; readonly description: string; readonly identifier: string; readonly contentType?: string }
) =>
  Schema.transform(body, Schema.declare((u: unknown): u is C => u instanceof Ctor), { strict: true, ...codec }).pipe(
    (schema) => (options.contentType ? HttpApiSchema.withEncoding(schema, { kind: "Json", contentType: options.contentType }) : schema),
    (schema) =>
      schema.annotations({
        ...HttpApiSchema.annotations({ status: options.status, description: options.description }),
        identifier: options.identifier
      })
  )
