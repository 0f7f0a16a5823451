import { type Account, Accounts, type AccountsService, type AccountType, assign, Conflict, InvalidRequest, parseSearchText, type SearchSort } from "@acct/core"
import { Args, Command, Options } from "@effect/cli"
import { Effect, Either, Option } from "effect"
import { accountArg, common, invocation, mutation, output, withBackend } from "../context.js"
import { accountDetails, accountTable, json, relationsText } from "../render.js"

const accountName = Args.text({ name: "account" }).pipe(Args.withDescription("an act_… id or a reference id"))
const assignments = Args.text({ name: "field=value" }).pipe(
  Args.withDescription("field values; dotted keys reach into hashes (name.first=Jane), JSON for arrays"),
  Args.repeated
)
/** An account's type for showing it to people; undefined when it cannot be read (masking then fails closed). */
const typeOf = (accounts: AccountsService, account: Account) =>
  Effect.orElseSucceed(Effect.map(accounts.getType(account.accountTypeId), (type): AccountType | undefined => type), () => undefined)

const fromEither = <A, E>(e: Either.Either<A, E>) => Either.match(e, { onLeft: Effect.fail, onRight: Effect.succeed })

const list = Command.make(
  "list",
  {
    ...common,
    status: Options.text("status").pipe(Options.withDescription("only accounts with this status"), Options.optional),
    tag: Options.text("tag").pipe(Options.withDescription("only accounts with this tag"), Options.optional),
    type: Options.text("type").pipe(Options.withDescription("only accounts of this type (id or name)"), Options.optional),
    referenceId: Options.text("reference-id").pipe(Options.withDescription("the account with this reference id"), Options.optional),
    size: Options.integer("size").pipe(Options.withDescription("page size, 1–100"), Options.withDefault(10)),
    after: Options.text("after").pipe(Options.withDescription("the page after this account id (from `next`)"), Options.optional),
    before: Options.text("before").pipe(Options.withDescription("the page before this account id (from `prev`)"), Options.optional),
    all: Options.boolean("all").pipe(Options.withDescription("follow `next` to the end and print every account")),
    includeArchived: Options.boolean("include-archived").pipe(Options.withDescription("include consolidated (archived) sources"))
  },
  (o) =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const query = {
        status: Option.getOrUndefined(o.status),
        tag: Option.getOrUndefined(o.tag),
        accountType: Option.getOrUndefined(o.type),
        referenceId: Option.getOrUndefined(o.referenceId),
        size: o.size,
        after: Option.getOrUndefined(o.after),
        before: Option.getOrUndefined(o.before),
        includeArchived: o.includeArchived
      }
      let page = yield* accounts.list(query)
      if (o.all) {
        const items = [...page.items]
        while (page.next) {
          page = yield* accounts.list({ ...query, after: page.next, before: undefined, size: 100 })
          items.push(...page.items)
        }
        page = { items, next: null, prev: null }
      }
      // As search does: a backend without a type catalog (SoftwareOne) masks every field.
      const types = yield* accounts.listTypes().pipe(Effect.orElseSucceed(() => []))
      yield* output(o.json, () => json.page(page, json.account), () =>
        page.items.length === 0
          ? "No accounts match."
          : [accountTable(page.items, types), ...(page.next ? [`\nMore: acct accounts list --after ${page.next}`] : [])].join("\n")
      )
    })
).pipe(Command.withDescription("List accounts, newest first, a page at a time (filters combine).\n\nExamples:\n  acct accounts list --status disabled\n  acct accounts list --tag vip --json\n  acct accounts list --all --json > accounts.json"))

/** `--sort created_at`, `--sort fields.name.last:asc` (the direction defaults to desc, as in Persona). */
const parseSort = (text: string): Either.Either<SearchSort, InvalidRequest> => {
  const [, attribute, direction] = /^([^:\s]+)(?::(asc|desc))?$/.exec(text.trim()) ?? []
  return attribute
    ? Either.right({ attribute, direction: (direction ?? "desc") as SearchSort["direction"] })
    : Either.left(new InvalidRequest({ message: `--sort: expected ATTRIBUTE or ATTRIBUTE:asc / ATTRIBUTE:desc (e.g. created_at:asc), got ${JSON.stringify(text)}` }))
}

const SEARCH_LIMIT_MAX = 10_000

const search = Command.make(
  "search",
  {
    ...common,
    sort: Options.text("sort").pipe(Options.withPseudoName("ATTRIBUTE[:asc|desc]"), Options.withDescription("order by an attribute (default: newest first); missing values last"), Options.optional),
    limit: Options.integer("limit").pipe(Options.withDescription(`print at most this many accounts, 1–${SEARCH_LIMIT_MAX} (fetched 100 a page)`), Options.withDefault(10)),
    after: Options.text("after").pipe(Options.withDescription("continue after this account id (from `More:`)"), Options.optional),
    query: Args.text({ name: "query" }).pipe(Args.withDescription("e.g. 'status = activated and fields.email_address = ada@example.com'; none: every account"), Args.optional)
  },
  (o) =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const text = Option.getOrElse(o.query, () => "")
      const parsed = yield* fromEither(parseSearchText(text))
      const sort = Option.isSome(o.sort) ? yield* fromEither(parseSort(o.sort.value)) : undefined
      if (!(o.limit >= 1 && o.limit <= SEARCH_LIMIT_MAX)) return yield* new InvalidRequest({ message: `--limit must be from 1 to ${SEARCH_LIMIT_MAX}, got ${o.limit}` })
      const items: Array<Account> = []
      let after = Option.getOrUndefined(o.after)
      let next: string | null = null
      do {
        const page = yield* accounts.search({ query: parsed.query, sort, after, size: Math.min(100, o.limit - items.length) }).pipe(
          // A predicate the catalog refuses is shown in the text, with a caret.
          Effect.mapError((e) => (e._tag === "InvalidRequest" ? parsed.explain(e) : e))
        )
        items.push(...page.items)
        next = page.next
        after = next ?? undefined
      } while (next !== null && items.length < o.limit)
      const types = yield* accounts.listTypes().pipe(Effect.orElseSucceed(() => []))
      const again = ["acct accounts search", ...(Option.isSome(o.sort) ? [`--sort ${o.sort.value}`] : []), ...(o.limit !== 10 ? [`--limit ${o.limit}`] : []), `--after ${next}`, ...(text ? [`'${text.replaceAll("'", `'"'"'`)}'`] : [])]
      yield* output(o.json, () => json.page({ items, next, prev: null }, json.account), () =>
        items.length === 0 ? "No accounts match." : [accountTable(items, types), ...(next ? [`\nMore: ${again.join(" ")}`] : [])].join("\n")
      )
    })
).pipe(
  Command.withDescription(
    "Search accounts with and / or / not over status, type, tags, dates, reference ids and searchable fields (the catalog's `searchable: true`).\n\n" +
      "A predicate is ATTRIBUTE OP VALUE, OP one of = != < <= > >=; attributes: status, type, tags, created_at, updated_at, identifiers.reference_id, fields.KEY (fields.HASH.KEY). Quote values with spaces.\n\n" +
      "Examples:\n  acct accounts search 'status = activated and fields.email_address = ada@example.com'\n  acct accounts search --sort created_at:asc '(tags = vip or tags = beta) and not status = disabled'\n  acct accounts search --json --limit 500 'fields.name.last = \"de la Cruz\"'"
  )
)

const get = Command.make("get", { ...common, account: accountName }, (o) =>
  Effect.gen(function* () {
    const accounts = yield* Accounts
    const account = yield* Effect.flatMap(accountArg(o.account), accounts.get)
    // The text view masks by the type's pii flags (unreadable type: everything masked); --json needs no type.
    const type = o.json ? undefined : yield* typeOf(accounts, account)
    yield* output(o.json, () => json.account(account), () => accountDetails(account, type))
  })
).pipe(Command.withDescription("Show one account.\n\nExamples:\n  acct accounts get abc-123\n  acct accounts get act_hpNqyAbEG4HeVjZoBRNCMKkA --json"))

const create = Command.make(
  "create",
  {
    ...mutation,
    type: Options.text("type").pipe(Options.withDescription("account type (id or name)")),
    referenceId: Options.text("reference-id").pipe(Options.withDescription("the external id"), Options.optional),
    status: Options.text("status").pipe(Options.withDescription("initial status (default: the type's default)"), Options.optional),
    tags: Options.text("tag").pipe(Options.withDescription("a tag (repeat for more)"), Options.repeated),
    fields: assignments
  },
  (o) =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const type = yield* accounts.getType(o.type)
      const fields = yield* fromEither(assign(type.fields, o.fields))
      const account = yield* accounts.create(
        { accountType: type.id, referenceId: Option.getOrUndefined(o.referenceId), status: Option.getOrUndefined(o.status), tags: o.tags, fields },
        invocation(o)
      )
      yield* output(o.json, () => json.account(account), () => `Created ${account.id}.\n\n${accountDetails(account, type)}`)
    })
).pipe(Command.withDescription("Create an account; fields are checked against its type.\n\nExample:\n  acct accounts create --type User --reference-id u-42 --tag beta name.first=Ada name.last=Lovelace email_address=ada@example.com"))

const update = Command.make(
  "update",
  {
    ...mutation,
    account: accountName,
    referenceId: Options.text("reference-id").pipe(Options.withDescription("set the external id ('' to clear)"), Options.optional),
    fields: assignments
  },
  (o) =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const ref = yield* accountArg(o.account)
      const current = yield* accounts.get(ref)
      const type = yield* accounts.getType(current.accountTypeId)
      const fields = yield* fromEither(assign(type.fields, o.fields))
      if (Option.isNone(o.referenceId) && o.fields.length === 0) {
        return yield* new InvalidRequest({ message: "nothing to update: give --reference-id or field=value pairs" })
      }
      const referenceId = Option.map(o.referenceId, (r) => (r === "" ? null : r))
      const account = yield* accounts.update(ref, { fields, ...(Option.isSome(referenceId) ? { referenceId: referenceId.value } : {}) }, invocation(o))
      yield* output(o.json, () => json.account(account), () => `Updated ${account.id} (version ${account.version}).\n\n${accountDetails(account, type)}`)
    })
).pipe(Command.withDescription("Change an account's fields or reference id.\n\nExample:\n  acct accounts update abc-123 phone_number=555-0100 address.city=Oakland"))

const redact = Command.make(
  "redact",
  { ...mutation, account: accountName, yes: Options.boolean("yes").pipe(Options.withDescription("confirm: redaction is irreversible")) },
  (o) =>
    Effect.gen(function* () {
      if (!o.yes) {
        return yield* new InvalidRequest({ message: `redaction wipes every field of ${o.account} for good; run again with --yes to confirm` })
      }
      const ref = yield* accountArg(o.account)
      const account = yield* Effect.flatMap(Accounts, (a) => a.redact(ref, invocation(o)))
      yield* output(o.json, () => json.account(account), () => `Redacted ${account.id}: personal data wiped at ${account.redactedAt?.toISOString()}.`)
    })
).pipe(Command.withDescription("Wipe an account's personal data (every field value). The account stays, marked redacted. Irreversible: needs --yes.\n\nExample:\n  acct accounts redact abc-123 --yes --reason 'GDPR erasure request #881'"))

const tagCommand = (name: "tag" | "untag", describe: string) =>
  Command.make(name, { ...mutation, account: accountName, tags: Args.text({ name: "tag" }).pipe(Args.withDescription(`one or more tags to ${name === "tag" ? "add" : "remove"}`), Args.atLeast(1)) }, (o) =>
    Effect.gen(function* () {
      const ref = yield* accountArg(o.account)
      // All the tags named are one change: one version step, or nothing when any is refused.
      const account = yield* Effect.flatMap(Accounts, (a) => a.changeTags(ref, name === "tag" ? { add: o.tags } : { remove: o.tags }, invocation(o)))
      yield* output(o.json, () => json.account(account), () => `${account.id} tags: ${account.tags.join(", ") || "(none)"}`)
    })
  ).pipe(Command.withDescription(describe))

const setTags = Command.make("set-tags", { ...mutation, account: accountName, tags: Args.text({ name: "tag" }).pipe(Args.withDescription("the account's tags from now on; none removes them all"), Args.repeated) }, (o) =>
  Effect.gen(function* () {
    const ref = yield* accountArg(o.account)
    const account = yield* Effect.flatMap(Accounts, (a) => a.setTags(ref, o.tags, invocation(o)))
    yield* output(o.json, () => json.account(account), () => `${account.id} tags: ${account.tags.join(", ") || "(none)"}`)
  })
).pipe(Command.withDescription("Replace all tags of an account (none given: remove all).\n\nExample:\n  acct accounts set-tags abc-123 vip beta"))

const consolidate = Command.make(
  "consolidate",
  {
    ...mutation,
    destination: Args.text({ name: "destination" }).pipe(Args.withDescription("the account that stays (act_… id or reference id)")),
    sources: Args.text({ name: "source" }).pipe(Args.withDescription("accounts merged into it and archived"), Args.atLeast(1))
  },
  (o) =>
    Effect.gen(function* () {
      const destination = yield* accountArg(o.destination)
      const sources = yield* Effect.forEach(o.sources, accountArg)
      if (sources.length !== new Set(o.sources).size) return yield* new Conflict({ message: "a source is named twice" })
      const accounts = yield* Accounts
      const account = yield* accounts.consolidate(destination, sources, invocation(o))
      const type = o.json ? undefined : yield* typeOf(accounts, account)
      yield* output(o.json, () => json.account(account), () => `Consolidated ${sources.length} account(s) into ${account.id}.\n\n${accountDetails(account, type)}`)
    })
).pipe(Command.withDescription("Merge source accounts into a destination: its values win, sources fill gaps, tags are united; sources are archived.\n\nExample:\n  acct accounts consolidate abc-123 act_Dup1… act_Dup2…"))

const relationKey = Args.text({ name: "key" }).pipe(Args.withDescription("the relation's key (a relation schema of the account's type, e.g. household)"))
const relationTarget = Args.text({ name: "target" }).pipe(Args.withDescription("the related account: an act_… id or a reference id"))

const relations = Command.make(
  "relations",
  {
    ...common,
    account: accountName,
    key: Options.text("key").pipe(Options.withDescription("only this relation (default: every relation of the account's type)"), Options.optional)
  },
  (o) =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const ref = yield* accountArg(o.account)
      const account = yield* accounts.get(ref)
      const keys = Option.isSome(o.key) ? [o.key.value] : (yield* accounts.getType(account.accountTypeId)).relations.map((r) => r.key)
      // Every target of each key, page after page (an account's relations are few).
      const everyTarget = (key: string) =>
        Effect.gen(function* () {
          const items = []
          let after: string | undefined
          do {
            const page = yield* accounts.listRelations({ id: account.id }, { key, after, size: 100 })
            items.push(...page.items)
            after = page.next ?? undefined
          } while (after !== undefined)
          return { key, page: { items, next: null, prev: null } }
        })
      const pages = yield* Effect.forEach(keys, everyTarget)
      const types = yield* accounts.listTypes().pipe(Effect.orElseSucceed(() => []))
      yield* output(
        o.json,
        () => Object.fromEntries(pages.map(({ key, page }) => [key, json.page(page, json.account)])),
        () => (keys.length === 0 ? `${account.accountTypeName} accounts have no relations.` : relationsText(pages, types))
      )
    })
).pipe(
  Command.withDescription(
    "Show the accounts an account relates to, by relation key (the relation schemas of its type).\n\nExamples:\n  acct accounts relations abc-123\n  acct accounts relations abc-123 --key household --json"
  )
)

const relationCommand = (name: "relate" | "unrelate", describe: string) =>
  Command.make(name, { ...mutation, account: accountName, key: relationKey, target: relationTarget }, (o) =>
    Effect.gen(function* () {
      const ref = yield* accountArg(o.account)
      const target = yield* accountArg(o.target)
      const change = { key: o.key, target }
      const account = yield* Effect.flatMap(Accounts, (a) => (name === "relate" ? a.addRelation(ref, change, invocation(o)) : a.removeRelation(ref, change, invocation(o))))
      yield* output(o.json, () => json.account(account), () => `${account.id} ${name === "relate" ? "now relates to" : "no longer relates to"} ${o.target} (${o.key}).`)
    })
  ).pipe(Command.withDescription(describe))

export const accountsCommand = Command.make("accounts").pipe(
  Command.withDescription("Look up and change accounts."),
  Command.withSubcommands([
    list.pipe(withBackend),
    search.pipe(withBackend),
    get.pipe(withBackend),
    create.pipe(withBackend),
    update.pipe(withBackend),
    redact.pipe(withBackend),
    tagCommand("tag", "Add tags to an account.\n\nExample:\n  acct accounts tag abc-123 vip beta").pipe(withBackend),
    tagCommand("untag", "Remove tags from an account.\n\nExample:\n  acct accounts untag abc-123 beta").pipe(withBackend),
    setTags.pipe(withBackend),
    consolidate.pipe(withBackend),
    relations.pipe(withBackend),
    relationCommand("relate", "Relate an account to another under a relation key of its type (relating twice changes nothing).\n\nExample:\n  acct accounts relate abc-123 household def-456").pipe(withBackend),
    relationCommand("unrelate", "Remove a relation between two accounts.\n\nExample:\n  acct accounts unrelate abc-123 household def-456").pipe(withBackend)
  ])
)
