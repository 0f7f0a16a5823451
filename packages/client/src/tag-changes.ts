/**
 * Several tags added and removed as one change over Persona's own wire, which offers only
 * add-tag, remove-tag and set-tags (acct's server has change-tags, used by AccountsHttp): one tag is one
 * add-tag or remove-tag call; more become a single set-tags of the resulting list, so the change
 * lands whole or not at all. The list is computed from a fresh read: a tag change made by
 * someone else between that read and the set-tags can be overwritten (the wire carries no
 * version to guard it). Replays stay exact: applying the same changes again yields the same list.
 */
import { type AccountsService, changedTags } from "@acct/core"
import { Effect, Either } from "effect"

export const changeTagsOver = (service: Pick<AccountsService, "get" | "addTag" | "removeTag" | "setTags">): AccountsService["changeTags"] =>
  (ref, changes, invocation) => {
    const add = changes.add ?? []
    const remove = changes.remove ?? []
    if (add.length === 1 && remove.length === 0) return service.addTag(ref, add[0]!, invocation)
    if (remove.length === 1 && add.length === 0) return service.removeTag(ref, remove[0]!, invocation)
    return Effect.gen(function* () {
      const account = yield* service.get(ref)
      if (add.length === 0 && remove.length === 0) return account
      const tags = yield* Either.match(changedTags(account.tags, changes), { onLeft: Effect.fail, onRight: Effect.succeed })
      return yield* service.setTags({ id: account.id }, tags, invocation)
    })
  }
