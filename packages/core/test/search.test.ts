import { Either } from "effect"
import { describe, expect, it } from "vitest"
import {
  AccountType,
  AccountTypeId,
  FieldSchema,
  parseSearchQuery,
  parseSearchText,
  resolveSearch,
  searchableChanged,
  searchableFields,
  searchValues
} from "../src/index.js"
import { Schema } from "effect"

const at = new Date("2026-01-01T00:00:00.000Z")
const type = (name: string, fields: ReadonlyArray<FieldSchema>, statuses: [string, ...Array<string>] = ["active", "disabled"]) =>
  AccountType.make({ id: AccountTypeId.make(), name, description: "", fields, statuses, defaultStatus: statuses[0], lifecycle: { active: statuses[0], enabled: statuses[0], disabled: statuses[statuses.length - 1]! }, createdAt: at, updatedAt: at })

const user = type("User", [
  { key: "name", type: "hash", searchable: true, fields: [{ key: "first", type: "string" }, { key: "last", type: "string" }] },
  { key: "email_address", type: "email-address", searchable: true },
  { key: "age", type: "integer", searchable: true },
  { key: "vip", type: "boolean", searchable: true },
  { key: "plan", type: "choices", options: ["free", "pro"], searchable: true },
  { key: "seen_at", type: "datetime", searchable: true },
  { key: "phone_number", type: "string" }
])
const types = [user]

const problem = (either: Either.Either<unknown, { message: string }>) => (Either.isLeft(either) ? either.left.message : "no problem")

describe("search query shape", () => {
  it("accepts the spec's examples", () => {
    const complex = { and: [{ attribute: "type", operator: "eq", value: "acttp_ABC123" }, { or: [{ attribute: "status", operator: "eq", value: "a" }, { attribute: "status", operator: "eq", value: "b" }] }] }
    expect(Either.isRight(parseSearchQuery(complex))).toBe(true)
    expect(Either.isRight(parseSearchQuery({ not: { attribute: "status", operator: "eq", value: "actst_ABC123" } }))).toBe(true)
  })

  it("names the bad predicate by its path", () => {
    expect(problem(parseSearchQuery({ and: [{ attribute: "status", operator: "eq", value: "a" }, { or: [{ attribute: "x", operator: "like", value: 1 }] }] }))).toBe(
      "query.and[1].or[0].operator: expected one of eq, gt, gte, lt, lte; got \"like\""
    )
    expect(problem(parseSearchQuery({ attribute: "status", operator: "eq", value: null }))).toBe("query.value: expected a string, number or boolean, got null")
    expect(problem(parseSearchQuery({ attribute: "status", operator: "eq", value: "a", colour: 1 }))).toContain("query.colour: unknown key")
    expect(problem(parseSearchQuery({ and: [], or: [] }))).toContain("query.or: a clause holds \"and\" alone")
  })

  it("nests clauses at most 2 deep and holds at most 20 clauses", () => {
    const p = { attribute: "status", operator: "eq", value: "a" }
    expect(Either.isRight(parseSearchQuery({ and: [{ or: [p] }] }))).toBe(true)
    expect(problem(parseSearchQuery({ and: [{ or: [{ not: p }] }] }))).toBe("query.and[0].or[0].not: clauses nest at most 2 levels deep (and, or, not)")
    expect(Either.isRight(parseSearchQuery({ or: Array.from({ length: 20 }, () => p) }))).toBe(true)
    expect(problem(parseSearchQuery({ or: Array.from({ length: 21 }, () => p) }))).toBe("query.or: expected a list of 1–20 conditions, got 21")
    expect(problem(parseSearchQuery({ and: [] }))).toBe("query.and: expected a list of 1–20 conditions, got 0")
  })
})

describe("search against the catalog", () => {
  const resolve = (query: unknown, sort?: unknown) => resolveSearch({ query: query as never, sort: sort as never }, types)

  it("allows fields the catalog marks searchable, and the scalar parts of searchable hashes", () => {
    expect(searchableFields(user).map((f) => f.path)).toEqual(["name.first", "name.last", "email_address", "age", "vip", "plan", "seen_at"])
    expect(problem(resolve({ attribute: "fields.phone_number", operator: "eq", value: "1" }))).toContain(
      'query.attribute: "fields.phone_number" is not a searchable field; searchable: fields.name.first, fields.name.last, fields.email_address'
    )
    expect(problem(resolve({ attribute: "colour", operator: "eq", value: "1" }))).toContain("query.attribute: unknown attribute \"colour\"")
    expect(problem(resolve({ attribute: "identifiers.user_id", operator: "eq", value: "1" }))).toContain("identifiers.reference_id")
  })

  it("checks and normalises values by the attribute's kind", () => {
    const ok = resolve({ and: [
      { attribute: "fields.age", operator: "gte", value: "30" },
      { attribute: "fields.email_address", operator: "eq", value: "Ada@Example.com" },
      { attribute: "created_at", operator: "gte", value: "2025-01-01" },
      { attribute: "fields.seen_at", operator: "lt", value: "2025-01-01T02:00:00+02:00" },
      { attribute: "type", operator: "eq", value: "User" }
    ] })
    expect(Either.getOrThrow(ok).where).toEqual({ kind: "and", nodes: [
      { kind: "predicate", target: { kind: "field", attribute: "age", valueKind: "number" }, operator: "gte", value: 30 },
      { kind: "predicate", target: { kind: "field", attribute: "email_address", valueKind: "text" }, operator: "eq", value: "ada@example.com" },
      { kind: "predicate", target: { kind: "column", column: "created_at" }, operator: "gte", value: "2025-01-01T00:00:00.000Z" },
      { kind: "predicate", target: { kind: "field", attribute: "seen_at", valueKind: "text" }, operator: "lt", value: "2025-01-01T00:00:00.000Z" },
      { kind: "predicate", target: { kind: "column", column: "type" }, operator: "eq", value: user.id }
    ] })
    expect(problem(resolve({ or: [{ attribute: "fields.age", operator: "eq", value: "old" }] }))).toBe('query.or[0].value: fields.age: expected a number, got "old"')
    expect(problem(resolve({ attribute: "status", operator: "eq", value: "activ" }))).toBe('query.value: status: expected one of active, disabled; got "activ"')
    expect(problem(resolve({ attribute: "status", operator: "gt", value: "active" }))).toBe("query.operator: status is compared with eq only")
    expect(problem(resolve({ attribute: "fields.vip", operator: "gt", value: true }))).toBe("query.operator: fields.vip: a boolean field is compared with eq only")
    expect(problem(resolve({ attribute: "fields.plan", operator: "eq", value: "gold" }))).toContain("expected one of free, pro")
    expect(problem(resolve({ attribute: "type", operator: "eq", value: "Staff" }))).toContain('no account type "Staff"; types: User')
    expect(problem(resolve({ attribute: "updated_at", operator: "lt", value: "yesterday" }))).toContain("updated_at: expected a date (YYYY-MM-DD)")
  })

  it("sorts by columns and searchable fields, not by tags", () => {
    expect(Either.getOrThrow(resolve(undefined, { attribute: "fields.age", direction: "asc" })).sort).toEqual({ target: { kind: "field", attribute: "age", valueKind: "number" }, direction: "asc" })
    expect(Either.getOrThrow(resolve(undefined, { attribute: "created_at" })).sort?.direction).toBe("desc")
    expect(problem(resolve(undefined, { attribute: "tags", direction: "asc" }))).toBe("sort.attribute: accounts cannot be sorted by tags")
    expect(problem(resolve(undefined, { attribute: "created_at", direction: "up" }))).toBe('sort.direction: expected asc or desc, got "up"')
  })

  it("refuses a field that two types declare with different types", () => {
    const other = type("Staff", [{ key: "age", type: "string", searchable: true }])
    expect(problem(resolveSearch({ query: { attribute: "fields.age", operator: "eq", value: 1 } }, [user, other]))).toContain("fields.age is a integer in User and a string in Staff")
  })
})

describe("search values", () => {
  it("keeps the searchable values of an account, normalised", () => {
    const values = searchValues(searchableFields(user), {
      name: { type: "hash", value: { first: { type: "string", value: "Ada" }, last: { type: "string", value: null } } },
      email_address: { type: "email-address", value: "Ada@Example.COM" },
      age: { type: "integer", value: 36 },
      vip: { type: "boolean", value: false },
      seen_at: { type: "datetime", value: "2025-06-01T12:00:00+02:00" },
      phone_number: { type: "string", value: "555" }
    })
    expect(values).toEqual([
      { attribute: "name.first", text: "Ada", number: null },
      { attribute: "email_address", text: "ada@example.com", number: null },
      { attribute: "age", text: null, number: 36 },
      { attribute: "vip", text: "false", number: null },
      { attribute: "seen_at", text: "2025-06-01T10:00:00.000Z", number: null }
    ])
  })

  it("says when a catalog change needs the values rebuilt", () => {
    expect(searchableChanged(user, user)).toBe(false)
    expect(searchableChanged(user, { fields: user.fields.map((f) => ({ ...f, searchable: f.key === "age" })) })).toBe(true)
    expect(searchableChanged(undefined, { fields: [] })).toBe(false)
  })

  it("refuses searchable arrays and files in the catalog", () => {
    const decoded = Schema.decodeUnknownEither(FieldSchema)({ key: "ids", type: "array", items: { key: "i", type: "string" }, searchable: true })
    expect(problem(Either.mapLeft(decoded, (e) => ({ message: e.message })))).toContain("a array field cannot be searchable")
  })
})

describe("the readable search syntax", () => {
  const parse = (text: string) => Either.getOrThrow(parseSearchText(text)).query

  it("compiles to the JSON query", () => {
    expect(parse("status = active and fields.email_address = a@b.c")).toEqual({ and: [
      { attribute: "status", operator: "eq", value: "active" },
      { attribute: "fields.email_address", operator: "eq", value: "a@b.c" }
    ] })
    expect(parse("(tags = vip or tags = beta) and fields.age >= 30 and type != Staff")).toEqual({ and: [
      { or: [{ attribute: "tags", operator: "eq", value: "vip" }, { attribute: "tags", operator: "eq", value: "beta" }] },
      { attribute: "fields.age", operator: "gte", value: 30 },
      { not: { attribute: "type", operator: "eq", value: "Staff" } }
    ] })
    expect(parse('fields.name.last = "de la Cruz" OR NOT fields.vip = true')).toEqual({ or: [
      { attribute: "fields.name.last", operator: "eq", value: "de la Cruz" },
      { not: { attribute: "fields.vip", operator: "eq", value: true } }
    ] })
    expect(parse("a = 1 and (b = 2 and c < 007)")).toEqual({ and: [
      { attribute: "a", operator: "eq", value: 1 }, { attribute: "b", operator: "eq", value: 2 }, { attribute: "c", operator: "lt", value: "007" }
    ] })
    expect(parse("created_at >= 2025-01-01T00:00:00Z")).toEqual({ attribute: "created_at", operator: "gte", value: "2025-01-01T00:00:00Z" })
    expect(parse("   ")).toBeUndefined()
  })

  it("points at a syntax error with a caret", () => {
    expect(problem(parseSearchText("status = active and fields.email a@b.c"))).toBe(
      'search, column 34: expected an operator (=, !=, <, <=, >, >=) after "fields.email", got "a@b.c"\n  status = active and fields.email a@b.c\n                                   ^^^^^'
    )
    expect(problem(parseSearchText("status = active Jane"))).toContain('expected "and", "or" or the end, got "Jane" (quote a value that has spaces)')
    expect(problem(parseSearchText("(status = active"))).toContain('expected ")" to close the "(" at column 1, got the end')
    expect(problem(parseSearchText('fields.name.last = "Doe'))).toContain("this quote is never closed")
    expect(problem(parseSearchText("status = = x"))).toContain(`column 10: expected a value after "status =" (quote it if it has spaces), got "="`)
  })

  it("points a catalog error back at the text", () => {
    const text = "status = active and fields.age > old"
    const parsed = Either.getOrThrow(parseSearchText(text))
    const error = Either.getLeft(resolveSearch({ query: parsed.query }, types)).pipe((o) => (o._tag === "Some" ? o.value : undefined))!
    expect(parsed.explain(error).message).toBe('search, column 34: fields.age: expected a number, got "old"\n  status = active and fields.age > old\n                                   ^^^')
    // A server's answer carries the path in its message only.
    const remote = parsed.explain(new (error.constructor as typeof import("../src/index.js").InvalidRequest)({ message: 'query.and[0].value: status: expected one of x; got "active"' }))
    expect(remote.message).toContain("column 10")
  })
})
