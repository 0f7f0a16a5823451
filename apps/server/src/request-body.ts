/**
 * The request body, read once, for everything after it (the payload decoder). Before reading:
 *
 * - a body in any media type but JSON (`application/json` or JSON:API's own
 *   `application/vnd.api+json`) is a 415 at once — except Persona's account importer, which
 *   also takes `multipart/form-data` (read here into its JSON form). An empty body has nothing
 *   to interpret and is never refused for its declared type;
 * - a body over the limit (the importer's own, larger one for its files) is a 413, whether its
 *   size is declared (`Content-Length`) or only found while reading a chunked upload.
 *
 * After reading, a body nested deeper than MAX_JSON_DEPTH is a 400, and so is one that is not
 * JSON. The request passed on answers `text`/`json`/`arrayBuffer` from the bytes already read,
 * with `Content-Type: application/json`: the platform's decoder reads a body it does not
 * recognise as JSON with `arrayBuffer`, which is not cached and waited forever for a stream
 * already consumed (that was the hang with `application/vnd.api+json`).
 */
import { IMPORT_PATH } from "@acct/api"
import { HttpServerError, HttpServerRequest, type HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Effect } from "effect"
import type { IncomingMessage } from "node:http"
import { refusal } from "./error-body.js"
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./json-depth.js"
import { pathOf } from "./request-context.js"

const JSON_TYPES = new Set(["application/json", "application/vnd.api+json"])

/** The media type of a Content-Type header, lowercased, without parameters ("" if none). */
export const mediaType = (contentType: string | undefined) => (contentType ?? "").split(";")[0]!.trim().toLowerCase()

/** Methods whose body the API reads. */
const TAKES_BODY = new Set(["POST", "PATCH", "PUT", "DELETE"])

/** Beyond this much, an oversized upload is cut off instead of drained. */
const DRAIN_LIMIT = 16 * 1024 * 1024

type Read = { readonly _tag: "Body"; readonly bytes: Buffer } | { readonly _tag: "TooLarge" } | { readonly _tag: "Gone" }

/**
 * Reads the whole body, up to `maxBytes`. Past the limit it keeps reading and discarding (up to
 * DRAIN_LIMIT) so the 413 reaches the client: closing a socket with unread data makes the kernel
 * send a reset, which can destroy the answer before the client reads it.
 */
const readAtMost = (incoming: IncomingMessage, maxBytes: number) =>
  Effect.async<Read>((resume) => {
    const chunks: Array<Buffer> = []
    let seen = 0
    const onData = (chunk: Buffer) => {
      seen += chunk.length
      if (seen <= maxBytes) chunks.push(chunk)
      else if (seen > DRAIN_LIMIT) finish({ _tag: "TooLarge" }, true)
    }
    const onEnd = () => finish(seen > maxBytes ? { _tag: "TooLarge" } : { _tag: "Body", bytes: Buffer.concat(chunks) })
    const onGone = () => finish({ _tag: "Gone" })
    const detach = () => {
      incoming.off("data", onData)
      incoming.off("end", onEnd)
      incoming.off("close", onGone)
      incoming.off("error", onGone)
    }
    const finish = (read: Read, destroy = false) => {
      detach()
      if (destroy) incoming.destroy()
      resume(Effect.succeed(read))
    }
    if (incoming.readableEnded) return resume(Effect.succeed({ _tag: "Body", bytes: Buffer.alloc(0) }))
    incoming.on("data", onData)
    incoming.once("end", onEnd)
    incoming.once("close", onGone)
    incoming.once("error", onGone)
    return Effect.sync(detach)
  })

/** The same request, answering its body from `text` (already read) as JSON. */
export const withBody = (request: HttpServerRequest.HttpServerRequest, text: string): HttpServerRequest.HttpServerRequest => {
  // A request of its own (same source), not Object.create(request): V8 turns an object used as
  // a prototype into a slow "prototype" object, and every later read of the request paid.
  const wrapped = request.modify({ headers: { ...request.headers, "content-type": "application/json" } })
  const invalid = (description: string) => new HttpServerError.RequestError({ request: wrapped, reason: "Decode", description })
  const json = text === "" ? Effect.fail(invalid("the request body is empty")) : Effect.try({ try: () => JSON.parse(text) as unknown, catch: () => invalid("the request body is not valid JSON") })
  Object.defineProperties(wrapped, {
    text: { value: Effect.succeed(text) },
    json: { value: json },
    arrayBuffer: { value: Effect.sync(() => new TextEncoder().encode(text).buffer) }
  })
  return wrapped
}

export interface RequestBodyOptions {
  readonly maxBodyBytes: number
  /** The limit for Persona's account importer, whose CSV files are larger than any other body. */
  readonly maxImportBytes: number
}

/**
 * The importer's multipart form (Persona's `-F data[attributes][file]=@accounts.csv`) as the
 * JSON form of the same request, so one payload schema and one handler serve both. Undefined
 * when the form holds no file.
 */
const multipartAsJson = async (bytes: Buffer, contentType: string): Promise<string | undefined> => {
  const form = await new Response(bytes, { headers: { "content-type": contentType } }).formData()
  const file = form.get("data[attributes][file]") ?? form.get("file")
  if (file === null) return undefined
  const content = typeof file === "string" ? Buffer.from(file, "utf8") : Buffer.from(await file.arrayBuffer())
  const filename = typeof file === "string" ? undefined : file.name
  return JSON.stringify({ data: { attributes: { file: { data: content.toString("base64"), ...(filename ? { filename } : {}) } } } })
}

/** Answers a refusal, or runs `app` with the body read. */
export const requestBody =
  (options: RequestBodyOptions) =>
  <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest> =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      if (!TAKES_BODY.has(request.method)) return app
      const refuse = (status: number, title: string, detail: string) => refusal(request, status, title, detail)
      const declared = request.headers["content-length"]
      const hasBody = (declared !== undefined && declared !== "0") || request.headers["transfer-encoding"] !== undefined
      const importing = request.method === "POST" && pathOf(request.url) === IMPORT_PATH
      const type = mediaType(request.headers["content-type"])
      const multipart = importing && type === "multipart/form-data"
      if (hasBody && !JSON_TYPES.has(type) && !multipart) {
        const accepted = importing ? "JSON (application/json) or multipart/form-data" : "JSON (Content-Type: application/json or application/vnd.api+json)"
        return refuse(415, "Unsupported Media Type", `the request body must be ${accepted}, got ${type === "" ? "no Content-Type" : JSON.stringify(type)}`)
      }
      const limit = importing ? options.maxImportBytes : options.maxBodyBytes
      const tooLarge = () => refuse(413, "Payload Too Large", `the request body is larger than this service accepts (${limit} bytes${importing ? " for an import: split the file" : ""})`)
      if (Number(declared ?? 0) > limit) {
        return Effect.zipRight(readAtMost(NodeHttpServerRequest.toIncomingMessage(request), 0), tooLarge())
      }
      return Effect.flatMap(hasBody ? readAtMost(NodeHttpServerRequest.toIncomingMessage(request), limit) : Effect.succeed<Read>({ _tag: "Body", bytes: Buffer.alloc(0) }), (read) => {
        // The caller hung up mid-body: nobody reads the answer (the edge answers it without a body).
        if (read._tag === "Gone") return refuse(400, "Bad Request", "the request body was cut off")
        if (read._tag === "TooLarge") return tooLarge()
        const text = multipart
          ? Effect.tryPromise(() => multipartAsJson(read.bytes, request.headers["content-type"]!)).pipe(Effect.orElseSucceed(() => null))
          : Effect.succeed<string | null | undefined>(read.bytes.toString("utf8"))
        return Effect.flatMap(text, (body) => {
          if (body === null) return refuse(400, "Bad Request", "the request body is not a well-formed multipart/form-data form")
          if (body === undefined) return refuse(400, "Bad Request", "data[attributes][file]: the form holds no file (send the CSV as data[attributes][file])")
          if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
            return refuse(400, "Bad Request", `the request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`)
          }
          return Effect.provideService(app, HttpServerRequest.HttpServerRequest, withBody(request, body))
        })
      })
    })
