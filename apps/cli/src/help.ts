/**
 * `--help`, rendered here rather than by @effect/cli. Its own help repeats a type placeholder
 * ("A user-defined piece of text.") and "This setting is optional." under every option, names
 * the command without its path ("$ list …"), repeats the options every command shares, and
 * always writes ANSI escapes. This module reads the same structure — the command descriptor's
 * subcommands, usage and HelpDoc — and lays it out as `acct accounts list [options] …`, with
 * the shared options listed once, at the top level.
 */
import { CliConfig, type HelpDoc, type Usage } from "@effect/cli"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import type { Span } from "@effect/cli/HelpDoc/Span"
import type { Style } from "./colour.js"

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any command's descriptor, whatever it parses to
export type AnyDescriptor = Descriptor.Command<any>

/** Options every command takes: described once, in `acct --help`. */
export const GLOBAL_OPTIONS: ReadonlyArray<string> = ["--db", "--json", "--remote", "--profile"]

/** What @effect/cli adds to every description; it says nothing the usage line does not. */
const BOILERPLATE = [
  /^A user-defined piece of text\.$/,
  /^A true or false value\.$/,
  /^An integer\.$/,
  /^A floating point number\.$/,
  /^This setting is optional\.$/,
  /^This option can be set from environment variables\.$/,
  /^This (option|argument) may be repeated/,
  /^An entity representing/
]

const helpConfig = CliConfig.make({ showBuiltIns: false })

export const spanText = (span: Span): string => {
  switch (span._tag) {
    case "Text":
      return span.value
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    default:
      return spanText(span.value)
  }
}

/** A HelpDoc's blocks in order (sequences flattened). */
const blocks = (doc: HelpDoc.HelpDoc): ReadonlyArray<HelpDoc.HelpDoc> =>
  doc._tag === "Sequence" ? [...blocks(doc.left), ...blocks(doc.right)] : doc._tag === "Empty" ? [] : [doc]

/** Plain text of a HelpDoc, one paragraph per line: for error messages. */
export const docText = (doc: HelpDoc.HelpDoc): string =>
  blocks(doc)
    .map((block) => {
      switch (block._tag) {
        case "Header":
        case "Paragraph":
          return spanText(block.value)
        case "DescriptionList":
          return block.definitions.map(([term, body]) => `${spanText(term)}: ${docText(body)}`).join("\n")
        case "Enumeration":
          return block.elements.map((e) => `- ${docText(e)}`).join("\n")
        default:
          return ""
      }
    })
    .filter((line) => line !== "")
    .join("\n")

export interface Entry {
  /** `--size integer`, `<account>`, `--tag text...` */
  readonly term: string
  readonly description: string
}

interface Sections {
  readonly description: string
  readonly arguments: ReadonlyArray<Entry>
  readonly options: ReadonlyArray<Entry>
}

const sections = (descriptor: AnyDescriptor): Sections => {
  const found: Record<string, Array<HelpDoc.HelpDoc>> = {}
  let current = ""
  for (const block of blocks(Descriptor.getHelp(descriptor, helpConfig))) {
    if (block._tag === "Header") current = spanText(block.value)
    else (found[current] ??= []).push(block)
  }
  const entries = (name: string): ReadonlyArray<Entry> =>
    (found[name] ?? []).flatMap((block) =>
      block._tag === "DescriptionList"
        ? block.definitions.map(([term, body]) => ({
            term: spanText(term),
            description: blocks(body)
              .filter((b) => b._tag === "Paragraph")
              .map((b) => spanText((b as HelpDoc.Paragraph).value))
              .filter((text) => !BOILERPLATE.some((re) => re.test(text)))
              .join(" ")
          }))
        : []
    )
  return {
    description: (found["DESCRIPTION"] ?? []).map(docText).join("\n\n"),
    arguments: entries("ARGUMENTS"),
    options: entries("OPTIONS")
  }
}

const optionName = (term: string) => term.split(/[ ,]/)[0]!
const isGlobal = (entry: Entry) => GLOBAL_OPTIONS.includes(optionName(entry.term))

/**
 * The shape @effect/cli gives a descriptor at run time. Its public `getSubcommands` flattens a
 * group's children to their own options, losing their subcommands (`accounts` → `list`), so the
 * tree is read from here; the pinned version and the help tests keep this honest.
 */
interface DescriptorNode {
  readonly _tag: "Standard" | "GetUserInput" | "Map" | "Subcommands"
  readonly command?: DescriptorNode
  readonly children?: ReadonlyArray<DescriptorNode>
}

/** A command's subcommands by name, in the order they were declared. */
export const subcommands = (descriptor: AnyDescriptor): ReadonlyMap<string, AnyDescriptor> => {
  let node = descriptor as unknown as DescriptorNode
  while (node._tag === "Map" && node.command) node = node.command
  const children = node._tag === "Subcommands" ? (node.children ?? []) : []
  return new Map(children.map((child) => [[...Descriptor.getNames(child as unknown as AnyDescriptor)][0]!, child as unknown as AnyDescriptor]))
}

/** The command a path of subcommand names leads to, and how much of the path matched. */
export const resolvePath = (root: AnyDescriptor, words: ReadonlyArray<string>) => {
  let descriptor = root
  const path: Array<string> = []
  for (const word of words) {
    const child = subcommands(descriptor).get(word)
    if (child === undefined) break
    path.push(word)
    descriptor = child
  }
  return { descriptor, path }
}

/** Option names (`--status`) a command accepts, for suggestions. */
export const optionNames = (descriptor: AnyDescriptor): ReadonlyArray<string> => sections(descriptor).options.map((e) => optionName(e.term))

const usageArgs = (usage: Usage.Usage): ReadonlyArray<string> => {
  switch (usage._tag) {
    case "Named":
      return usage.names[0]?.startsWith("<") ? [usage.names[0]] : []
    case "Optional":
      return usageArgs(usage.usage).map((a) => `[${a}]`)
    case "Repeated":
      return usageArgs(usage.usage).map((a) => `${a}...`)
    case "Concat":
      return [...usageArgs(usage.left), ...usageArgs(usage.right)]
    default:
      return []
  }
}

/** `acct accounts get [options] <account>` */
export const usageLine = (descriptor: AnyDescriptor, path: ReadonlyArray<string>): string => {
  const children = subcommands(descriptor)
  const hasOptions = sections(descriptor).options.length > 0
  return ["acct", ...path, ...(hasOptions ? ["[options]"] : []), ...(children.size > 0 ? ["<command>"] : usageArgs(Descriptor.getUsage(descriptor)))].join(" ")
}

/**
 * The first sentence of a description: what the command does, for a list of commands. A
 * sentence ends at ". " or ": " outside brackets and code quotes — "(none given: remove all)"
 * and "`searchable: true`" are inside one.
 */
const summary = (text: string) => {
  const line = text.split("\n")[0] ?? ""
  let depth = 0
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === "`") quoted = !quoted
    else if (quoted) continue
    else if (c === "(") depth++
    else if (c === ")") depth--
    else if (depth === 0 && (c === "." || c === ":") && line[i + 1] === " ") return `${line.slice(0, i)}.`
  }
  return line.endsWith(":") ? `${line.slice(0, -1)}.` : line
}

const columns = (entries: ReadonlyArray<Entry>) => {
  const width = Math.min(Math.max(...entries.map((e) => e.term.length)), 28)
  return entries.map((e) => `  ${e.term.padEnd(width)}  ${e.description}`.trimEnd()).join("\n")
}

export interface HelpInput {
  readonly root: AnyDescriptor
  /** The command that takes the options shared by every command (for the top-level list). */
  readonly globals: AnyDescriptor
  readonly path: ReadonlyArray<string>
  readonly style: Style
  /** Printed last in the top-level help (exit codes). */
  readonly footer: string
}

/** The help of the command at `path` (the top level when empty). */
export const renderHelp = ({ root, globals, path, style, footer }: HelpInput): string => {
  const { descriptor } = resolvePath(root, path)
  const own = sections(descriptor)
  const children = [...subcommands(descriptor)].map(([name, child]) => ({ term: name, description: summary(sections(child).description) }))
  const options = own.options.filter((e) => !isGlobal(e))
  const shared = own.options.filter(isGlobal).map((e) => optionName(e.term))
  const out: Array<string> = [`${style.bold("Usage:")} ${usageLine(descriptor, path)}`, ""]
  if (own.description !== "") out.push(own.description, "")
  if (children.length > 0) out.push(style.bold("Commands:"), columns(children), "")
  if (own.arguments.length > 0) out.push(style.bold("Arguments:"), columns(own.arguments), "")
  if (options.length > 0) out.push(style.bold("Options:"), columns(options), "")
  if (path.length === 0) {
    const builtIn = [
      { term: "--help", description: "this help; after a command, that command's options and examples" },
      { term: "--version", description: "the version of acct" },
      { term: "--completions SHELL", description: "print shell completions (bash, zsh, fish)" }
    ]
    out.push(style.bold("Global options (every command):"), columns([...sections(globals).options, ...builtIn]), "")
    out.push(footer)
  } else if (shared.length > 0) {
    out.push(`Global options: ${shared.join(", ")} (see \`acct --help\`).`)
  } else if (children.length > 0) {
    out.push(`Run \`acct ${path.join(" ")} <command> --help\` for a command's options and examples.`)
  }
  return out.join("\n").trimEnd()
}
