/**
 * The SoftwareOne-compatible surface under /v1/accounts/accounts (and /public/v1/…, see
 * extensions.ts): list, get, and the four
 * lifecycle transitions, answering SoftwareOne's account model and problem details.
 */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { SOFTWAREONE_PREFIX } from "../extensions.js"
import { ProblemAuthentication } from "../security.js"
import { schemas } from "./errors.js"
import { SoftwareOneAccount, SoftwareOneAccountList } from "./resources.js"

const IdPath = Schema.Struct({ id: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255)) })

const Limit = Schema.NumberFromString.pipe(
  Schema.int({ message: () => "limit must be an integer from 1 to 100" }),
  Schema.between(1, 100, { message: () => "limit must be an integer from 1 to 100" })
)
const Offset = Schema.NumberFromString.pipe(
  Schema.int({ message: () => "offset must be an integer from 0 to 10000" }),
  Schema.between(0, 10_000, { message: () => "offset must be an integer from 0 to 10000" })
)

const transition = <const Name extends string>(name: Name, rule: string) =>
  HttpApiEndpoint.post(name, `/:id/${name}`)
    .setPath(IdPath)
    .addSuccess(SoftwareOneAccount)
    .addError(schemas.NotFound)
    .addError(schemas.Conflict)
    .annotate(OpenApi.Summary, `${name[0]!.toUpperCase()}${name.slice(1)} an account`)
    .annotate(OpenApi.Description, `${rule} From any other state: 400 with a detail that says why.`)

export class SoftwareOneApi extends HttpApiGroup.make("softwareone")
  .add(
    HttpApiEndpoint.get("list", "/")
      .setUrlParams(Schema.Struct({ limit: Schema.optional(Limit), offset: Schema.optional(Offset) }))
      .addSuccess(SoftwareOneAccountList)
      .annotate(OpenApi.Summary, "List accounts")
  )
  .add(HttpApiEndpoint.get("get", "/:id").setPath(IdPath).addSuccess(SoftwareOneAccount).addError(schemas.NotFound).annotate(OpenApi.Summary, "Get an account (id or external id)"))
  .add(transition("enable", "Disabled → Active when the account has an external id, else Enabled."))
  .add(transition("disable", "Active or Enabled → Disabled."))
  .add(transition("activate", "Enabled → Active; needs an external id."))
  .add(transition("deactivate", "Active → Enabled."))
  .prefix(SOFTWAREONE_PREFIX)
  .middleware(ProblemAuthentication)
  .addError(schemas.BadRequest)
  .addError(schemas.Forbidden)
  .addError(schemas.TooManyRequests)
  .addError(schemas.Unavailable)
  .annotate(OpenApi.Title, "SoftwareOne-compatible accounts API") {}
