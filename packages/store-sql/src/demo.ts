/**
 * The demo catalog: Persona's example `User` account type, a few actions (one of them the
 * `Set status` of Persona's run-action example) and a handful of accounts, Jane Marie Doe first.
 * Every example in the README's CLI tour has something to show on them.
 */
import { Accounts, type CreateAccountInput, type FieldSchema, Principal } from "@acct/core"
import { Effect } from "effect"
import type { CatalogInput } from "./catalog-file.js"

const text = (key: string, label?: string): FieldSchema => ({ key, type: "string", ...(label ? { label } : {}) })

// Searchable (POST /accounts/search, `acct accounts search`): name parts, email, birthdate, country.
const userFields: ReadonlyArray<FieldSchema> = [
  { key: "name", type: "hash", pii: true, searchable: true, fields: [text("first"), text("middle"), text("last")] },
  {
    key: "address",
    type: "hash",
    pii: true,
    fields: [text("street_1"), text("street_2"), text("subdivision"), text("city"), text("postal_code"), { ...text("country_code"), searchable: true }]
  },
  {
    key: "identification_numbers",
    type: "array",
    pii: true,
    items: { key: "identification_number", type: "hash", fields: [text("identification_class"), text("identification_number"), text("issuing_country")] }
  },
  { key: "birthdate", type: "date", pii: true, searchable: true },
  { key: "phone_number", type: "string", pii: true },
  { key: "email_address", type: "email-address", pii: true, searchable: true },
  { key: "selfie_photo", type: "file", pii: true },
  { key: "social_security_number", type: "string", pii: true }
]

/** Persona's flat attributes (create and update requests, import columns) → the User fields. */
const userAttributes = {
  "name-first": "name.first",
  "name-middle": "name.middle",
  "name-last": "name.last",
  "email-address": "email_address",
  "phone-number": "phone_number",
  birthdate: "birthdate",
  "address-street-1": "address.street_1",
  "address-street-2": "address.street_2",
  "address-city": "address.city",
  "address-subdivision": "address.subdivision",
  "address-postal-code": "address.postal_code",
  "country-code": "address.country_code",
  "social-security-number": "social_security_number",
  "selfie-photo": "selfie_photo"
} as const

const statuses = ["pending", "activated", "deactivated", "disabled"] as const

export const demoCatalog: CatalogInput = {
  accountTypes: [
    {
      name: "User",
      description: "A person using the product (Persona's example account type).",
      fields: userFields,
      // `acct accounts relate abc-123 household def-456` (the README's tour) relates Jane to John.
      relations: [
        { key: "household", label: "Household members", targetType: "User", cardinality: "many" },
        { key: "referred_by", label: "Referred by", targetType: "User", cardinality: "one" }
      ],
      statuses: [...statuses],
      defaultStatus: "deactivated",
      // SoftwareOne lifecycle: Active / Enabled / Disabled.
      lifecycle: { active: "activated", enabled: "deactivated", disabled: "disabled" },
      attributes: userAttributes,
      // Requests that name no account type create Users.
      default: true
    }
  ],
  actions: [
    {
      name: "Set status",
      description: "Sets the account's status to any status of its type.",
      accountType: "User",
      parameters: [{ key: "status", type: "choices", required: true, options: [...statuses] }],
      steps: [{ type: "set-status", status: { param: "status" } }]
    },
    {
      name: "Suspend for review",
      description: "Disables the account, tags it under-review and emits account.suspended.",
      accountType: "User",
      parameters: [{ key: "reason", type: "string", required: true }],
      steps: [
        { type: "lifecycle", operation: "disable" },
        { type: "add-tags", tags: ["under-review"] },
        { type: "emit-event", event: "account.suspended", data: { reason: { param: "reason" } } }
      ],
      confirm: true
    },
    {
      name: "Reinstate",
      description: "Enables a suspended account and clears the under-review tag.",
      accountType: "User",
      parameters: [],
      steps: [
        { type: "lifecycle", operation: "enable" },
        { type: "remove-tags", tags: ["under-review"] }
      ]
    },
    {
      name: "Update contact",
      description: "Replaces the email address and phone number.",
      accountType: "User",
      parameters: [
        { key: "email_address", type: "email-address", required: true },
        { key: "phone_number", type: "string" }
      ],
      steps: [{ type: "set-fields", fields: { email_address: { param: "email_address" }, phone_number: { param: "phone_number" } } }]
    },
    {
      name: "Mark VIP",
      description: "Adds the vip tag.",
      accountType: "User",
      parameters: [],
      steps: [{ type: "add-tags", tags: ["vip"] }]
    }
  ]
}

const person = (first: string, middle: string | null, last: string, extra: Record<string, unknown> = {}) => ({
  name: { first, middle, last },
  ...extra
})

export const demoAccounts: ReadonlyArray<CreateAccountInput> = [
  {
    accountType: "User",
    referenceId: "abc-123",
    status: "deactivated",
    tags: ["tag1", "tag2"],
    fields: person("Jane", "Marie", "Doe", {
      address: { street_1: "123 Main St", street_2: null, subdivision: "California", city: "San Francisco", postal_code: "94111", country_code: "US" },
      identification_numbers: [
        { identification_class: "visa", identification_number: "12345678", issuing_country: "US" },
        { identification_class: "visa", identification_number: "87654321", issuing_country: "UK" },
        { identification_class: "cct", identification_number: "A12345678", issuing_country: "AF" }
      ],
      birthdate: "1994-12-30",
      phone_number: "111-222-3333",
      email_address: "jane@doe.com",
      selfie_photo: null
    })
  },
  { accountType: "User", referenceId: "def-456", status: "activated", tags: ["vip"], fields: person("John", null, "Smith", { email_address: "john.smith@example.com" }) },
  // A disabled VIP: `acct accounts list --status disabled --tag vip` (the README's tour) finds him.
  { accountType: "User", referenceId: "ghi-789", status: "disabled", tags: ["vip"], fields: person("Wei", null, "Chen", { birthdate: "1988-03-14" }) },
  { accountType: "User", status: "deactivated", tags: ["trial"], fields: person("María", "José", "García", { email_address: "maria.garcia@example.com" }) },
  // Jane again, from an old sign-up: what `acct accounts consolidate abc-123 abc-123-dup` merges.
  { accountType: "User", referenceId: "abc-123-dup", status: "disabled", tags: ["legacy"], fields: person("Jane", null, "Doe", { email_address: "jane.doe@oldmail.example", phone_number: "111-222-0000" }) },
  { accountType: "User", status: "pending", tags: ["new"], fields: person("Liam", null, "O'Brien", { phone_number: "+353 1 234 5678" }) }
]

/** The identity seeding and maintenance run as. */
export const systemPrincipal = Principal.make({ actor: { kind: "system", id: "acct", name: "acct (system)" }, scopes: ["admin"] })

/** Creates the demo accounts, unless the store already holds accounts. */
export const seedDemoAccounts = Effect.gen(function* () {
  const accounts = yield* Accounts
  const existing = yield* accounts.list({ size: 1, includeArchived: true })
  if (existing.items.length > 0) return 0
  for (const input of demoAccounts) yield* accounts.create(input, { principal: systemPrincipal, channel: "cli", reason: "demo data" })
  return demoAccounts.length
})
