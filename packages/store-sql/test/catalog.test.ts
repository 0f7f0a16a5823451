import { Accounts } from "@acct/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { loadCatalog, parseCatalog } from "../src/index.js"
import { afterAll } from "vitest"
import { backends, dropDatabases, onFreshStore } from "./harness.js"

afterAll(dropDatabases)

const problem = (text: string, file = "catalog.yaml") => {
  const result = parseCatalog(text, file)
  return Either.isLeft(result) ? result.left.message : "ok"
}

describe("catalog files", () => {
  it("reports YAML syntax errors with the file name", () => {
    expect(problem("accountTypes: [\n  name: x")).toMatch(/^catalog\.yaml: not valid YAML/)
    expect(problem("{", "c.json")).toMatch(/^c\.json: not valid JSON/)
  })

  it("reports schema problems with their path", () => {
    const message = problem(`
accountTypes:
  - name: Org
    fields: [{ key: size, type: weird }]
    statuses: [on]
    defaultStatus: on
    lifecycle: { active: on, enabled: on, disabled: on }
`)
    expect(message).toContain("catalog.yaml: invalid catalog")
    expect(message).toContain('accountTypes[0].fields[0].type: expected a field type (string, hash, array, date, datetime, number, integer, boolean, email-address, choices, file), got "weird"')
    expect(message).not.toContain("Expected undefined")
  })

  it("says shape problems in words, never in Schema's notation", () => {
    expect(problem("accountTypes: 5")).toBe("catalog.yaml: invalid catalog: accountTypes: expected a list of objects, got 5")
    expect(problem("null")).toBe("catalog.yaml: invalid catalog: expected an object, got null")
    const message = problem(`
accountTypes:
  - name: ""
    fields: x
    statuses: [on]
    defaultStatus: on
    lifecycle: null
actions:
  - { name: X, accountType: Org, steps: [{ type: nope }] }
`)
    expect(message).toBe(
      'catalog.yaml: invalid catalog: accountTypes[0].name: expected a string that is not empty, got ""; accountTypes[0].fields: expected a list of objects, got "x"; accountTypes[0].lifecycle: expected an object, got null; actions[0].steps[0].type: expected one of "set-status", "set-fields", "add-tags", "remove-tags", "lifecycle", "emit-event"; got "nope"'
    )
    expect(message).not.toMatch(/Expected |readonly|actual|ReadonlyArray|<suspended schema>/)
  })

  it.effect("reports cross-reference problems and loads nothing", () =>
    Effect.gen(function* () {
      const catalog = Either.getOrThrow(
        parseCatalog(
          `
accountTypes:
  - name: Org
    fields: [{ key: size, type: integer }]
    statuses: [on, off]
    defaultStatus: maybe
    lifecycle: { active: on, enabled: on, disabled: gone }
actions:
  - name: Bad
    accountType: Org
    steps:
      - { type: set-status, status: { param: nope } }
      - { type: set-fields, fields: { colour: red } }
  - name: Orphan
    accountType: Ghost
    steps: [{ type: add-tags, tags: [x] }]
`,
          "org.yaml"
        )
      )
      const error = yield* Effect.flip(loadCatalog(catalog, "org.yaml"))
      expect(error.message).toContain("org.yaml: invalid catalog")
      expect(error.message).toContain('accountTypes[0].defaultStatus: "maybe" is not one of statuses')
      expect(error.message).toContain('accountTypes[0].lifecycle.disabled: "gone" is not one of statuses')
      expect(error.message).toContain('actions[0].steps[0]: refers to parameter "nope"')
      expect(error.message).toContain("actions[0].steps[1].fields.colour: not a field of Org")
      expect(error.message).toContain('actions[1].accountType: unknown account type "Ghost"')
      const accounts = yield* Accounts
      expect((yield* accounts.listTypes()).map((t) => t.name)).toEqual(["User"])
    }).pipe((test) => onFreshStore(backends[backends.length - 1]!, test))
  )

  it.effect("reloading keeps ids stable", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      const before = yield* accounts.getAction("Set status")
      const text = `
actions:
  - name: Set status
    description: changed
    accountType: User
    parameters: [{ key: status, type: choices, required: true, options: [activated, disabled] }]
    steps: [{ type: set-status, status: { param: status } }]
`
      yield* loadCatalog(Either.getOrThrow(parseCatalog(text, "c.yaml")), "c.yaml")
      const after = yield* accounts.getAction("Set status")
      expect(after.id).toBe(before.id)
      expect(after.description).toBe("changed")
    }).pipe((test) => onFreshStore(backends[backends.length - 1]!, test))
  )

  it.effect("maps Persona's flat attributes onto fields, names a default type, and checks both", () =>
    Effect.gen(function* () {
      const bad = Either.getOrThrow(
        parseCatalog(
          `
accountTypes:
  - name: Org
    fields: [{ key: name, type: hash, fields: [{ key: legal, type: string }] }]
    statuses: [on]
    defaultStatus: on
    lifecycle: { active: on, enabled: on, disabled: on }
    attributes: { name-first: name.first, name-last: name }
    default: true
  - name: Team
    fields: []
    statuses: [on]
    defaultStatus: on
    lifecycle: { active: on, enabled: on, disabled: on }
    default: true
`,
          "org.yaml"
        )
      )
      const error = yield* Effect.flip(loadCatalog(bad, "org.yaml"))
      expect(error.message).toContain("accountTypes[0].attributes.name-first: no field name.first (fields: legal)")
      expect(error.message).toContain("accountTypes[0].attributes.name-last: name is a hash field; an attribute sets one value")
      expect(error.message).toContain("only one account type can be the default; Org, Team all say default: true")
      expect(problem("accountTypes: [{ name: X, fields: [], statuses: [on], defaultStatus: on, lifecycle: { active: on, enabled: on, disabled: on }, attributes: { nickname: x } }]")).toContain("accountTypes[0].attributes")
      const accounts = yield* Accounts
      const user = yield* accounts.getType("User")
      expect(user.default).toBe(true)
      expect(user.attributes?.["name-first"]).toBe("name.first")
    }).pipe((test) => onFreshStore(backends[backends.length - 1]!, test))
  )
})
