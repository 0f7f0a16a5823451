/** API keys for the HTTP service: created (secret shown once), listed, revoked. */
import { type ApiKeyInfo, ApiKeys, InvalidRequest, Scope } from "@acct/core"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Schema } from "effect"
import { local, output, withStore } from "../context.js"
import { table } from "../table.js"

const info = (k: ApiKeyInfo) => ({ id: k.id, name: k.name, prefix: k.prefix, scopes: k.scopes, createdAt: k.createdAt.toISOString(), revokedAt: k.revokedAt?.toISOString() ?? null })

const create = Command.make(
  "create",
  {
    ...local,
    name: Options.text("name").pipe(Options.withDescription("who or what uses the key, e.g. billing-sync")),
    scopes: Options.text("scope").pipe(Options.withDescription(`a scope (repeat): ${Scope.literals.join(", ")}`), Options.repeated)
  },
  (o) =>
    Effect.gen(function* () {
      if (o.scopes.length === 0) return yield* new InvalidRequest({ message: `give at least one --scope (${Scope.literals.join(", ")})` })
      const unknown = o.scopes.filter((s) => !Schema.is(Scope)(s))
      if (unknown.length > 0) return yield* new InvalidRequest({ message: `unknown scope ${unknown.join(", ")}; expected ${Scope.literals.join(", ")}` })
      if (o.name.trim() === "" || o.name.length > 100) return yield* new InvalidRequest({ message: "--name must be 1–100 characters" })
      const { secret, key } = yield* Effect.flatMap(ApiKeys, (k) => k.create({ name: o.name, scopes: o.scopes as ReadonlyArray<Scope> }))
      yield* output(o.json, () => ({ ...info(key), secret }), () =>
        [`Created key ${key.id} (${key.name}) with scopes ${key.scopes.join(", ")}.`, "", `  ${secret}`, "", "This is the only time the key is shown; only its hash is stored."].join("\n")
      )
    })
).pipe(Command.withDescription("Create an API key for the HTTP service. The secret is printed once.\n\nExample:\n  acct keys create --name support-bot --scope account.read --scope account.action"), withStore)

const list = Command.make("list", local, (o) =>
  Effect.gen(function* () {
    const keys = yield* Effect.flatMap(ApiKeys, (k) => k.list())
    yield* output(o.json, () => ({ data: keys.map(info) }), () =>
      keys.length === 0
        ? "No API keys."
        : table(["ID", "NAME", "PREFIX", "SCOPES", "CREATED", "REVOKED"], keys.map((k) => [k.id, k.name, `${k.prefix}…`, k.scopes.join(","), k.createdAt.toISOString(), k.revokedAt?.toISOString() ?? "-"]))
    )
  })
).pipe(Command.withDescription("List API keys (never their secrets)."), withStore)

/**
 * The key a `keys revoke` argument names: its id (key_…) or prefix, else its name. A name shared
 * by several live keys is refused with the candidates, so one word never revokes two keys.
 */
const keyNamed = (keys: ReadonlyArray<ApiKeyInfo>, text: string): Effect.Effect<string, InvalidRequest> => {
  if (keys.some((k) => k.id === text || k.prefix === text)) return Effect.succeed(text)
  const named = keys.filter((k) => k.name === text)
  const live = named.filter((k) => k.revokedAt === null)
  const candidates = live.length > 0 ? live : named
  if (candidates.length <= 1) return Effect.succeed(candidates[0]?.id ?? text)
  const list = candidates.map((k) => `  ${k.id}  prefix ${k.prefix}…  created ${k.createdAt.toISOString()}  scopes ${k.scopes.join(",")}`).join("\n")
  return Effect.fail(new InvalidRequest({ message: `${candidates.length} keys are named ${JSON.stringify(text)}; revoke one by its id:\n${list}` }))
}

const revoke = Command.make(
  "revoke",
  { ...local, key: Args.text({ name: "key" }).pipe(Args.withDescription("the key's name, its id (key_…), or the prefix shown by `keys list`")) },
  (o) =>
    Effect.gen(function* () {
      const keys = yield* ApiKeys
      const all = yield* keys.list()
      const id = yield* keyNamed(all, o.key)
      const before = all.find((k) => k.id === id || k.prefix === id)
      const key = yield* keys.revoke(id)
      const already = before?.revokedAt != null
      yield* o.json
        ? Console.log(JSON.stringify(info(key), null, 2))
        : Console.log(already ? `${key.id} (${key.name}) was already revoked at ${key.revokedAt?.toISOString()}.` : `Revoked ${key.id} (${key.name}).`)
    })
).pipe(
  Command.withDescription("Revoke an API key: requests with it are refused from now on.\n\nExamples:\n  acct keys revoke support-bot\n  acct keys revoke key_hpNqyAbEG4HeVjZoBRNCMKkA"),
  withStore
)

export const keysCommand = Command.make("keys").pipe(Command.withDescription("API keys for the HTTP service."), Command.withSubcommands([create, list, revoke]))
