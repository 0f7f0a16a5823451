/**
 * The `/acct` command language, parsed from the text after the command. Tolerant: extra spaces,
 * "double", 'single' and “curly” quotes; a misspelled subcommand gets a suggestion.
 */
import { Either } from "effect"
import { InvalidRequest, type LifecycleOperation, parseSearchText, type SearchNode } from "@acct/core"

export type SlackCommand =
  | { readonly kind: "help"; readonly problem?: string | undefined }
  | { readonly kind: "show"; readonly account: string }
  /** `text` as typed: a reference id, `tag:vip`, `status:disabled`, or a search (`status = disabled and tags = vip`). */
  | { readonly kind: "find"; readonly text: string }
  | { readonly kind: "lifecycle"; readonly operation: LifecycleOperation; readonly account: string; readonly reason: string | undefined }
  | { readonly kind: "run"; readonly action: string; readonly account: string; readonly parameters: ReadonlyArray<string> }
  | { readonly kind: "tag"; readonly account: string; readonly add: ReadonlyArray<string>; readonly remove: ReadonlyArray<string> }
  | { readonly kind: "history"; readonly account: string }
  | { readonly kind: "redact"; readonly account: string; readonly reason: string | undefined }

export const SUBCOMMANDS = ["help", "show", "find", "enable", "disable", "activate", "deactivate", "run", "tag", "history", "redact"] as const

/** Words, keeping quoted phrases together. */
export const words = (text: string): ReadonlyArray<string> => {
  const normalized = text.replace(/[\u201C\u201D]/g, '"').replace(/[\u2018\u2019]/g, "'")
  const out: Array<string> = []
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g
  for (let m = pattern.exec(normalized); m !== null; m = pattern.exec(normalized)) out.push(m[1] ?? m[2] ?? m[3]!)
  return out
}

const distance = (a: string, b: string) => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}

/** The closest subcommand, if one is close enough to be a typo. */
export const suggest = (word: string): string | undefined => {
  const ranked = SUBCOMMANDS.map((c) => [c, distance(word.toLowerCase(), c)] as const).sort((a, b) => a[1] - b[1])
  return ranked[0] && ranked[0][1] <= 2 ? ranked[0][0] : undefined
}

const help = (problem: string): SlackCommand => ({ kind: "help", problem })

/** Longer than any real command, and than what a Slack message may quote back. */
export const MAX_COMMAND_LENGTH = 4000

export const parseCommand = (text: string): SlackCommand => {
  if (text.length > MAX_COMMAND_LENGTH) return help(`this command is ${text.length} characters long; acct reads at most ${MAX_COMMAND_LENGTH}`)
  const [first, ...rest] = words(text)
  if (first === undefined) return { kind: "help" }
  const sub = first.toLowerCase()
  const needAccount = (usage: string) => (rest[0] === undefined ? help(`\`${sub}\` needs an account: \`${usage}\``) : undefined)
  switch (sub) {
    case "help":
      return { kind: "help" }
    case "show":
    case "history":
      return needAccount(`${sub} <account>`) ?? { kind: sub, account: rest[0]! }
    case "find": {
      // The text as typed, quotes and all: a search keeps its quoted values.
      const query = text.replace(/^\s*\S+/, "").trim()
      if (query === "") return help("`find` needs what to look for: `find <reference-id>`, `find tag:vip`, `find status:disabled` or a search like `find status = disabled and tags = vip`")
      return { kind: "find", text: query }
    }
    case "enable":
    case "disable":
    case "activate":
    case "deactivate":
      return needAccount(`${sub} <account> [reason…]`) ?? { kind: "lifecycle", operation: sub, account: rest[0]!, reason: rest.slice(1).join(" ") || undefined }
    case "redact":
      return needAccount("redact <account> [reason…]") ?? { kind: "redact", account: rest[0]!, reason: rest.slice(1).join(" ") || undefined }
    case "run":
      if (rest.length < 2) return help("`run` needs an action and an account: `run \"Set status\" abc-123 status=activated`")
      return { kind: "run", action: rest[0]!, account: rest[1]!, parameters: rest.slice(2) }
    case "tag": {
      const missing = needAccount("tag <account> +add -remove")
      if (missing) return missing
      const changes = rest.slice(1)
      const add = changes.filter((w) => w.startsWith("+")).map((w) => w.slice(1)).filter(Boolean)
      const remove = changes.filter((w) => w.startsWith("-")).map((w) => w.slice(1)).filter(Boolean)
      const stray = changes.filter((w) => !/^[+-]./.test(w))
      if (stray.length > 0 || add.length + remove.length === 0) return help("`tag` takes tags to add with + and to remove with -: `tag abc-123 +vip -trial`")
      return { kind: "tag", account: rest[0]!, add, remove }
    }
    default: {
      const guess = suggest(sub)
      return help(`unknown command \`${first.slice(0, 40)}\`${guess ? ` — did you mean \`${guess}\`?` : ""}`)
    }
  }
}

export interface FindQuery {
  readonly title: string
  readonly query: SearchNode
  /** Points a refusal of the search back at the text. */
  readonly explain: (error: InvalidRequest) => InvalidRequest
}

/**
 * What `find` searches for: `tag:vip` and `status:disabled` as before, one word as a reference
 * id, anything else in the search syntax of the CLI (`acct accounts search`).
 */
export const findQuery = (text: string): Either.Either<FindQuery, InvalidRequest> => {
  const same = (e: InvalidRequest) => e
  const [, by, value] = /^(tag|status):(\S+)$/i.exec(text) ?? []
  if (by && value) {
    const tag = by.toLowerCase() === "tag"
    return Either.right({ title: `${tag ? "Tag" : "Status"} ${value}`, query: { attribute: tag ? "tags" : "status", operator: "eq", value }, explain: same })
  }
  if (/^[^\s=<>!()"'\u201C\u2018]+$/.test(text)) {
    return Either.right({ title: `Reference id ${text}`, query: { attribute: "identifiers.reference_id", operator: "eq", value: text }, explain: same })
  }
  return Either.flatMap(parseSearchText(text), (parsed) =>
    parsed.query ? Either.right({ title: `Search ${text}`, query: parsed.query, explain: parsed.explain }) : Either.left(new InvalidRequest({ message: "nothing to search for" }))
  )
}
