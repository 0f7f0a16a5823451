/** Handlers of the Persona-compatible surface: wire → Accounts port → wire. */
import {
  AcctApi,
  CurrentPrincipal,
  PersonaErrors,
  toAccountActionResource,
  toAccountResource,
  toAccountTypeResource,
  toAccountTypeWithMeta,
  toImporterResource,
  toImportRowErrorResource,
  toWorkflowRunResource
} from "@acct/api"
import { type AccountId, Accounts, type AccountsError, InvalidRequest, type LifecycleOperation, parseAccountRef, Unprocessable } from "@acct/core"
import { HttpApiBuilder, HttpServerRequest } from "@effect/platform"
import { Effect, Either } from "effect"
import { httpInvocation, requireRead } from "./request-context.js"

const invocation = Effect.flatMap(CurrentPrincipal, httpInvocation)

/** Runs a use of the port and answers its failures in Persona's error format. */
const persona = <A, R>(effect: Effect.Effect<A, AccountsError, R>) => Effect.mapError(effect, PersonaErrors.toPersonaError)

/** The file of a JSON import request: base64 (line breaks allowed), as UTF-8 text. */
const fromBase64 = (data: string) => {
  const compact = data.replace(/\s+/g, "")
  return /^[A-Za-z0-9+/]*={0,2}$/.test(compact) && compact.length % 4 !== 1
    ? Effect.succeed(Buffer.from(compact, "base64").toString("utf8"))
    : Effect.fail(new InvalidRequest({ message: "data.attributes.file.data: expected the file base64-encoded", issues: [{ path: ["data", "attributes", "file", "data"], message: "not base64" }] }))
}

/** `links.prev` / `links.next` for a page: the same query, another cursor. */
const pageLinks = (request: HttpServerRequest.HttpServerRequest, page: { readonly next: string | null; readonly prev: string | null }) => {
  const link = (name: "after" | "before", cursor: string | null) => {
    if (cursor === null) return null
    const url = new URL(request.url, "http://acct")
    url.searchParams.delete("page[after]")
    url.searchParams.delete("page[before]")
    url.searchParams.set(`page[${name}]`, cursor)
    return `${url.pathname}?${url.searchParams.toString()}`
  }
  return { prev: link("before", page.prev), next: link("after", page.next) }
}

export const PersonaLive = HttpApiBuilder.group(AcctApi, "persona", (handlers) =>
  Effect.gen(function* () {
    const accounts = yield* Accounts
    const lifecycle = (operation: LifecycleOperation) => ({ path }: { readonly path: { readonly accountId: AccountId } }) =>
      persona(
        Effect.gen(function* () {
          const { account, run } = yield* accounts.lifecycle({ id: path.accountId }, operation, yield* invocation)
          return { data: toAccountResource(account), meta: { "workflow-run-id": run.id } }
        })
      )
    const relationChange = (operation: "addRelation" | "removeRelation", accountId: AccountId, meta: { readonly "relation-schema-key": string; readonly "target-object-id": string }) =>
      persona(
        Effect.gen(function* () {
          const account = yield* accounts[operation]({ id: accountId }, { key: meta["relation-schema-key"], target: { id: meta["target-object-id"] as AccountId } }, yield* invocation)
          return { data: toAccountResource(account) }
        })
      )
    return handlers
      .handle("listAccounts", ({ urlParams }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            const request = yield* HttpServerRequest.HttpServerRequest
            const page = yield* accounts.list({
              after: urlParams["page[after]"],
              before: urlParams["page[before]"],
              size: urlParams["page[size]"],
              referenceId: urlParams["filter[reference-id]"],
              status: urlParams["filter[account-status]"],
              tag: urlParams["filter[tag]"],
              accountType: urlParams["filter[account-type-id]"]
            })
            return { data: page.items.map(toAccountResource), links: pageLinks(request, page) }
          })
        )
      )
      .handle("createAccount", ({ payload }) =>
        persona(
          Effect.gen(function* () {
            const a = payload.data.attributes
            const account = yield* accounts.create(
              { accountType: a["account-type-id"], referenceId: a["reference-id"], status: a["account-status"], fields: a.fields, tags: a.tags ?? undefined },
              yield* invocation
            )
            return { data: toAccountResource(account) }
          })
        )
      )
      .handle("getAccount", ({ path }) =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: toAccountResource(yield* accounts.get({ id: path.accountId })) }
        }))
      )
      .handle("updateAccount", ({ path, payload }) =>
        persona(
          Effect.gen(function* () {
            const a = payload.data.attributes
            const account = yield* accounts.update({ id: path.accountId }, { referenceId: a["reference-id"], fields: a.fields }, yield* invocation)
            return { data: toAccountResource(account) }
          })
        )
      )
      .handle("redactAccount", ({ path }) =>
        persona(Effect.map(Effect.flatMap(invocation, (inv) => accounts.redact({ id: path.accountId }, inv)), (a) => ({ data: toAccountResource(a) })))
      )
      .handle("addTag", ({ path, payload }) =>
        persona(Effect.map(Effect.flatMap(invocation, (inv) => accounts.addTag({ id: path.accountId }, payload.meta["tag-name"], inv)), (a) => ({ data: toAccountResource(a) })))
      )
      .handle("removeTag", ({ path, payload }) =>
        persona(Effect.map(Effect.flatMap(invocation, (inv) => accounts.removeTag({ id: path.accountId }, payload.meta["tag-name"], inv)), (a) => ({ data: toAccountResource(a) })))
      )
      .handle("setTags", ({ path, payload }) =>
        persona(Effect.map(Effect.flatMap(invocation, (inv) => accounts.setTags({ id: path.accountId }, payload.meta["tag-name"], inv)), (a) => ({ data: toAccountResource(a) })))
      )
      .handle("listRelations", ({ path, urlParams }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            const request = yield* HttpServerRequest.HttpServerRequest
            const page = yield* accounts.listRelations({ id: path.accountId }, {
              key: urlParams["filter[key]"],
              createdAtStart: urlParams["filter[created-at-start]"],
              createdAtEnd: urlParams["filter[created-at-end]"],
              after: urlParams["page[after]"],
              before: urlParams["page[before]"],
              size: urlParams["page[size]"]
            })
            return { data: page.items.map(toAccountResource), links: pageLinks(request, page) }
          })
        )
      )
      .handle("addRelation", ({ path, payload }) => relationChange("addRelation", path.accountId, payload.meta))
      .handle("removeRelation", ({ path, payload }) => relationChange("removeRelation", path.accountId, payload.meta))
      .handle("consolidateAccounts", ({ path, payload }) =>
        persona(
          Effect.gen(function* () {
            const sources = yield* Effect.forEach(payload.meta["source-account-ids"], (id) => Either.match(parseAccountRef(id), { onLeft: Effect.fail, onRight: Effect.succeed }))
            const account = yield* accounts.consolidate({ id: path.accountId }, sources, yield* invocation)
            return { data: toAccountResource(account) }
          })
        )
      )
      .handle("runAction", ({ path, payload }) =>
        persona(
          Effect.gen(function* () {
            const { account, run } = yield* accounts.runAction({ id: path.accountId }, payload.data["account-action-id"], payload.data.parameters ?? {}, yield* invocation)
            return { data: toAccountResource(account), meta: { "workflow-run-id": run.id } }
          })
        )
      )
      .handle("enable", lifecycle("enable"))
      .handle("disable", lifecycle("disable"))
      .handle("activate", lifecycle("activate"))
      .handle("deactivate", lifecycle("deactivate"))
      .handle("importAccounts", ({ payload, urlParams }) =>
        persona(
          Effect.gen(function* () {
            const csv = yield* fromBase64(payload.data.attributes.file.data)
            const importer = yield* accounts.importAccounts({ csv, accountType: urlParams["account-type-id"] }, yield* invocation).pipe(
              // Persona documents no 404 here: an unknown type is a request it cannot process.
              Effect.catchTag("NotFound", (e) => Effect.fail(new Unprocessable({ message: `account-type-id: ${e.message}`, issues: [{ path: ["account-type-id"], message: "unknown account type" }] })))
            )
            return { data: toImporterResource(importer) }
          })
        )
      )
      .handle("listImporters", ({ urlParams }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            const request = yield* HttpServerRequest.HttpServerRequest
            const page = yield* accounts.listImporters({ after: urlParams["page[after]"], before: urlParams["page[before]"], size: urlParams["page[size]"] })
            return { data: page.items.map(toImporterResource), links: pageLinks(request, page) }
          })
        )
      )
      .handle("getImporter", ({ path }) =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: toImporterResource(yield* accounts.getImporter(path.importerId)) }
        }))
      )
      .handle("listImporterErrors", ({ path, urlParams }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            const request = yield* HttpServerRequest.HttpServerRequest
            const importer = yield* accounts.getImporter(path.importerId)
            const page = yield* accounts.listImportErrors(path.importerId, { after: urlParams["page[after]"], size: urlParams["page[size]"] })
            return { data: page.items.map(toImportRowErrorResource), links: pageLinks(request, page), meta: { "row-count": importer.rowCount, "account-type-id": importer.accountTypeId } }
          })
        )
      )
      .handle("getAccountType", ({ path }) =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: toAccountTypeResource(yield* accounts.getType(path.accountTypeId)) }
        }))
      )
      .handle("listAccountTypes", () =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: (yield* accounts.listTypes()).map(toAccountTypeWithMeta) }
        }))
      )
      .handle("listAccountActions", ({ urlParams }) =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: (yield* accounts.listActions({ accountType: urlParams["filter[account-type-id]"] })).map(toAccountActionResource) }
        }))
      )
      .handle("getAccountAction", ({ path }) =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: toAccountActionResource(yield* accounts.getAction(path.accountActionId)) }
        }))
      )
      .handle("listWorkflowRuns", ({ urlParams }) =>
        persona(
          Effect.gen(function* () {
            yield* requireRead
            const request = yield* HttpServerRequest.HttpServerRequest
            const account = urlParams["filter[account-id]"]
            const page = yield* accounts.listRuns({
              after: urlParams["page[after]"],
              before: urlParams["page[before]"],
              size: urlParams["page[size]"],
              account: account === undefined ? undefined : yield* Either.match(parseAccountRef(account), { onLeft: Effect.fail, onRight: Effect.succeed })
            })
            return { data: page.items.map(toWorkflowRunResource), links: pageLinks(request, page) }
          })
        )
      )
      .handle("getWorkflowRun", ({ path }) =>
        persona(Effect.gen(function* () {
          yield* requireRead
          return { data: toWorkflowRunResource(yield* accounts.getRun(path.workflowRunId)) }
        }))
      )
  })
)
