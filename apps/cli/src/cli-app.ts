/**
 * Runs the command tree in place of `Command.run`: @effect/cli parses argv, and this module
 * decides what the user sees. `Command.run` prints its own coloured error text before failing,
 * so `--json` could never turn a parse error into JSON; here a parse error becomes an
 * `InvalidRequest` (exit 2) that main renders like any other error, with the usage of the
 * command that was meant and the nearest subcommand or option when a name was mistyped.
 */
import { InvalidRequest } from "@acct/core"
import { AutoCorrect, CliConfig, Command, HelpDoc, ValidationError } from "@effect/cli"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import { Console, Effect } from "effect"
import { colourFor, styleFor } from "./colour.js"
import { type AnyDescriptor, docText, optionNames, renderHelp, resolvePath, subcommands, usageLine } from "./help.js"

export interface CliApp {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the root of any command tree
  readonly root: Command.Command<"acct", any, any, any>
  /** A command taking exactly the options every command shares, for the top-level help. */
  readonly globals: AnyDescriptor
  readonly version: string
  /** The end of the top-level help. */
  readonly footer: string
}

const config = CliConfig.defaultConfig

/** The closest of `candidates` to `word`, if it is a plausible typo. */
const nearest = (word: string, candidates: ReadonlyArray<string>): string | undefined => {
  const scored = candidates
    .map((c) => ({ c, d: AutoCorrect.levensteinDistance(word, c, config) }))
    .filter(({ c, d }) => d <= Math.max(2, Math.floor(c.length / 3)) || c.startsWith(word))
    .sort((a, b) => a.d - b.d)
  return scored[0]?.c
}

const quote = (names: ReadonlyArray<string>) => names.map((n) => `'${n}'`).join(", ")

/** The words naming subcommands, up to the first option. */
const commandWords = (args: ReadonlyArray<string>) => {
  const end = args.findIndex((a) => a.startsWith("-"))
  return end === -1 ? args : args.slice(0, end)
}

/** What was wrong with the command line, said about the command the user meant. */
const usageError = (app: CliApp, args: ReadonlyArray<string>, error: ValidationError.ValidationError): InvalidRequest => {
  const words = commandWords(args)
  const { descriptor, path } = resolvePath(app.root.descriptor, words)
  const name = ["acct", ...path].join(" ")
  const children = [...subcommands(descriptor).keys()]
  const next = args[path.length]
  const help = `usage: ${usageLine(descriptor, path)}  (more: ${name} --help)`
  const say = (message: string) => new InvalidRequest({ message: `${message}\n${help}` })

  if (children.length > 0) {
    // `acct --json`, `acct accounts --db x`: a shared option, but no command to apply it to.
    if (next === undefined || optionNames(app.globals).includes(next)) return say(`${name} needs a command: ${quote(children)}`)
    const guess = nearest(next, children)
    const what = next.startsWith("-") ? "option" : "command"
    return say(`unknown ${what} '${next}' for ${name}${guess && what === "command" ? `; did you mean '${guess}'?` : ""}\n${name} commands: ${quote(children)}`)
  }
  const text = docText(error.error)
  const unknown = /^Received unknown argument: '(.*)'$/.exec(text)?.[1]
  if (unknown !== undefined) {
    if (!unknown.startsWith("-")) return say(`unexpected argument '${unknown}' for ${name}`)
    const known = optionNames(descriptor)
    if (known.includes(unknown)) return say(`option '${unknown}' needs a value`)
    const guess = nearest(unknown, known)
    return say(`unknown option '${unknown}' for ${name}${guess ? `; did you mean '${guess}'?` : ""}`)
  }
  return say(text.replace(/^'(.*)' is not a integer$/, "'$1' is not an integer").replace(/^Missing argument/, "missing argument"))
}

const printHelp = (app: CliApp, path: ReadonlyArray<string>) =>
  Console.log(renderHelp({ root: app.root.descriptor, globals: app.globals, path, footer: app.footer, style: styleFor(colourFor(process.stdout)) }))

/**
 * Parses `argv` (node, script, …args) and runs the chosen command. Fails with the command's
 * own errors, or an InvalidRequest for a malformed command line.
 */
export const runCli = (app: CliApp, argv: ReadonlyArray<string>) => {
  const args = argv.slice(2)
  const path = resolvePath(app.root.descriptor, commandWords(args)).path
  return Descriptor.parse(app.root.descriptor, ["acct", ...args], config).pipe(
    Effect.mapError((error) => usageError(app, args, error)),
    Effect.flatMap((directive) => {
      if (directive._tag === "BuiltIn") {
        switch (directive.option._tag) {
          case "ShowHelp":
            return printHelp(app, path)
          case "ShowVersion":
            return Console.log(app.version)
          default:
            // Completions, the wizard and --log-level: @effect/cli's own handling.
            return Command.run(app.root, { name: "acct", version: app.version })(argv)
        }
      }
      if (directive.leftover.length > 0) {
        const text = `Received unknown argument: '${directive.leftover[0]}'`
        return Effect.fail(usageError(app, args, ValidationError.invalidValue(HelpDoc.p(text))))
      }
      return app.root.transform(app.root.handler(directive.value), directive.value).pipe(
        // A command that only groups others (`acct accounts`) asks for its help.
        Effect.catchIf(
          (e: unknown) => ValidationError.isValidationError(e) && ValidationError.isHelpRequested(e),
          () => printHelp(app, path)
        )
      )
    })
  )
}
