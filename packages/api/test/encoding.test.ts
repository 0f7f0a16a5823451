/**
 * The server answers account documents as the mappers build them (`toAccountResource`), without
 * HttpApi's second pass through `Schema.encode` — right only while a mapped document's encoded
 * form is exactly its JSON. Checked on arbitrary accounts (and types) for every document the handlers send
 * that way.
 */
import { Account, AccountType } from "@acct/core"
import { Arbitrary, FastCheck, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { AccountDocument, AccountList, RunActionDocument, toAccountResource, toAccountTypeResource } from "../src/index.js"

const accounts = Arbitrary.make(Account)
const types = Arbitrary.make(AccountType)

const same = <A, I>(schema: Schema.Schema<A, I>, document: A) => expect(JSON.stringify(document)).toBe(JSON.stringify(Schema.encodeSync(schema)(document)))

describe("mapped account documents are their own encoded form", () => {
  it("AccountDocument, RunActionDocument and AccountList", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.array(accounts, { maxLength: 3 }), FastCheck.string(), FastCheck.option(FastCheck.string(), { nil: null }), (list, runId, cursor) => {
        for (const account of list) {
          same(AccountDocument, { data: toAccountResource(account) })
          same(RunActionDocument, { data: toAccountResource(account), meta: { "workflow-run-id": runId } })
        }
        same(AccountList, { data: list.map(toAccountResource), links: { prev: cursor, next: null } })
      }),
      { numRuns: 150 }
    )
  })
  it("AccountDocument with its account type included (?include=account-type)", () => {
    FastCheck.assert(
      FastCheck.property(accounts, types, (account, type) => {
        same(AccountDocument, { data: toAccountResource(account), included: [toAccountTypeResource(type)] })
      }),
      { numRuns: 25 }
    )
  })
})
