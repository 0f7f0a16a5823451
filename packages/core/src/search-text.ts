/**
 * The readable search syntax of the CLI and Slack, compiled to the same query as the HTTP API's
 * JSON:
 *
 *   status = activated and fields.email_address = "ada@example.com"
 *   (tags = vip or tags = beta) and created_at >= 2025-01-01 and not type = Staff
 *
 * Predicates are `attribute op value` with op one of = != < <= > >= (`!=` is `not … = …`);
 * `not` binds tighter than `and`, `and` tighter than `or`; parentheses group. A value is a word
 * or a "quoted" / 'quoted' string (backslash escapes a quote); a bare number or true/false is
 * sent as a number or boolean. Errors point at the text with a caret.
 */
import { Either } from "effect"
import { InvalidRequest, formatPath } from "./errors.js"
import type { SearchNode, SearchOperator, SearchValue } from "./search.js"

interface Span {
  readonly start: number
  readonly end: number
}

type Token =
  | { readonly kind: "word"; readonly text: string; readonly span: Span }
  | { readonly kind: "quoted"; readonly text: string; readonly span: Span }
  | { readonly kind: "op"; readonly text: string; readonly span: Span }
  | { readonly kind: "(" | ")"; readonly span: Span }
  | { readonly kind: "end"; readonly span: Span }

class SyntaxProblem {
  constructor(readonly message: string, readonly span: Span) {}
}

const OPERATORS: Readonly<Record<string, { readonly operator: SearchOperator; readonly negate: boolean }>> = {
  "=": { operator: "eq", negate: false },
  "==": { operator: "eq", negate: false },
  "!=": { operator: "eq", negate: true },
  "<": { operator: "lt", negate: false },
  "<=": { operator: "lte", negate: false },
  ">": { operator: "gt", negate: false },
  ">=": { operator: "gte", negate: false }
}
const OPERATOR_LIST = "=, !=, <, <=, >, >="

const tokenize = (text: string): Array<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (/\s/.test(c)) {
      i++
    } else if (c === "(" || c === ")") {
      tokens.push({ kind: c, span: { start: i, end: i + 1 } })
      i++
    } else if ("=<>!".includes(c)) {
      const two = text.slice(i, i + 2)
      const op = OPERATORS[two] ? two : OPERATORS[c] ? c : undefined
      if (op === undefined) throw new SyntaxProblem(`expected an operator (${OPERATOR_LIST})`, { start: i, end: i + 1 })
      tokens.push({ kind: "op", text: op, span: { start: i, end: i + op.length } })
      i += op.length
    } else if (c === '"' || c === "'" || c === "\u201C" || c === "\u2018") {
      const close = c === "\u201C" ? "\u201D" : c === "\u2018" ? "\u2019" : c
      let value = ""
      let j = i + 1
      for (; j < text.length && text[j] !== close; j++) {
        if (text[j] === "\\" && j + 1 < text.length) j++
        value += text[j]
      }
      if (j >= text.length) throw new SyntaxProblem("this quote is never closed", { start: i, end: i + 1 })
      tokens.push({ kind: "quoted", text: value, span: { start: i, end: j + 1 } })
      i = j + 1
    } else {
      let j = i
      while (j < text.length && !/[\s()=<>!"'\u201C\u2018]/.test(text[j]!)) j++
      tokens.push({ kind: "word", text: text.slice(i, j), span: { start: i, end: j } })
      i = j
    }
  }
  tokens.push({ kind: "end", span: { start: text.length, end: text.length + 1 } })
  return tokens
}

/** A parsed node with where each part came from, before it becomes a SearchNode. */
type Parsed =
  | { readonly kind: "predicate"; readonly attribute: string; readonly operator: SearchOperator; readonly value: SearchValue; readonly spans: { readonly attribute: Span; readonly operator: Span; readonly value: Span } }
  | { readonly kind: "and" | "or"; readonly nodes: ReadonlyArray<Parsed>; readonly span: Span }
  | { readonly kind: "not"; readonly node: Parsed; readonly span: Span }

const spanOf = (node: Parsed): Span =>
  node.kind === "predicate" ? { start: node.spans.attribute.start, end: node.spans.value.end } : node.span

const keyword = (token: Token, word: string) => token.kind === "word" && token.text.toLowerCase() === word

const valueOf = (token: Extract<Token, { kind: "word" | "quoted" }>): SearchValue => {
  if (token.kind === "quoted") return token.text
  if (token.text === "true" || token.text === "false") return token.text === "true"
  const n = Number(token.text)
  // Only a number written as JavaScript writes it back: "007" and "1e3" stay text.
  return Number.isFinite(n) && String(n) === token.text ? n : token.text
}

const describeToken = (token: Token) => (token.kind === "end" ? "the end" : token.kind === "word" || token.kind === "quoted" || token.kind === "op" ? JSON.stringify(token.text) : `"${token.kind}"`)

const parseTokens = (tokens: ReadonlyArray<Token>): Parsed => {
  let at = 0
  const peek = () => tokens[at]!
  const next = () => tokens[at++]!

  const group = (kind: "and" | "or", item: () => Parsed): Parsed => {
    const first = item()
    const nodes = [first]
    while (keyword(peek(), kind)) {
      next()
      nodes.push(item())
    }
    if (nodes.length === 1) return first
    // `a and (b and c)` is `a and b and c`: one clause, not two levels.
    const flat = nodes.flatMap((n) => (n.kind === kind ? n.nodes : [n]))
    return { kind, nodes: flat, span: { start: spanOf(first).start, end: spanOf(nodes[nodes.length - 1]!).end } }
  }
  const or = (): Parsed => group("or", and)
  const and = (): Parsed => group("and", unary)
  const unary = (): Parsed => {
    const token = peek()
    if (keyword(token, "not")) {
      next()
      const node = unary()
      return { kind: "not", node, span: { start: token.span.start, end: spanOf(node).end } }
    }
    if (token.kind === "(") {
      next()
      const node = or()
      const close = next()
      if (close.kind !== ")") throw new SyntaxProblem(`expected ")" to close the "(" at column ${token.span.start + 1}, got ${describeToken(close)}`, close.span)
      return node
    }
    return predicate()
  }
  const predicate = (): Parsed => {
    const attribute = next()
    if (attribute.kind !== "word" || ["and", "or", "not"].includes(attribute.text.toLowerCase())) {
      throw new SyntaxProblem(`expected an attribute (status, type, tags, created_at, identifiers.reference_id, fields.<name>), got ${describeToken(attribute)}`, attribute.span)
    }
    const op = next()
    if (op.kind !== "op") throw new SyntaxProblem(`expected an operator (${OPERATOR_LIST}) after ${JSON.stringify(attribute.text)}, got ${describeToken(op)}`, op.span)
    const value = next()
    if (value.kind !== "word" && value.kind !== "quoted") {
      throw new SyntaxProblem(`expected a value after ${JSON.stringify(`${attribute.text} ${op.text}`)} (quote it if it has spaces), got ${describeToken(value)}`, value.span)
    }
    const { operator, negate } = OPERATORS[op.text]!
    const leaf: Parsed = { kind: "predicate", attribute: attribute.text, operator, value: valueOf(value), spans: { attribute: attribute.span, operator: op.span, value: value.span } }
    return negate ? { kind: "not", node: leaf, span: spanOf(leaf) } : leaf
  }

  const node = or()
  const rest = peek()
  if (rest.kind !== "end") {
    throw new SyntaxProblem(`expected "and", "or" or the end, got ${describeToken(rest)}${rest.kind === "word" || rest.kind === "quoted" ? " (quote a value that has spaces)" : ""}`, rest.span)
  }
  return node
}

/** The text with a caret under `span`, for a terminal or a code block. */
export const caretAt = (text: string, span: Span) =>
  `  ${text}\n  ${" ".repeat(span.start)}${"^".repeat(Math.max(1, Math.min(span.end, text.length + 1) - span.start))}`

export interface ParsedSearchText {
  /** Undefined for an empty text: every account. */
  readonly query: SearchNode | undefined
  /**
   * Points a failure of this query (a server's or store's InvalidRequest naming
   * `query.and[1].value`) back at the text, with a caret.
   */
  readonly explain: (error: InvalidRequest) => InvalidRequest
}

const PATH_IN_MESSAGE = /^(query(?:\.(?:and|or|not)|\[\d+\])*)(?:\.(attribute|operator|value))?: /

/** Parses the readable syntax; a syntax error says what was expected and shows where. */
export const parseSearchText = (text: string): Either.Either<ParsedSearchText, InvalidRequest> => {
  if (text.trim() === "") return Either.right({ query: undefined, explain: (e) => e })
  let parsed: Parsed
  try {
    parsed = parseTokens(tokenize(text))
  } catch (problem) {
    if (!(problem instanceof SyntaxProblem)) throw problem
    const message = `search, column ${problem.span.start + 1}: ${problem.message}\n${caretAt(text, problem.span)}`
    return Either.left(new InvalidRequest({ message, issues: [{ path: ["search"], message: problem.message }] }))
  }
  const spans = new Map<string, { readonly whole: Span; readonly attribute?: Span; readonly operator?: Span; readonly value?: Span }>()
  const build = (node: Parsed, path: ReadonlyArray<string | number>): SearchNode => {
    const where = formatPath(path)
    if (node.kind === "predicate") {
      spans.set(where, { whole: spanOf(node), ...node.spans })
      return { attribute: node.attribute, operator: node.operator, value: node.value }
    }
    spans.set(where, { whole: node.span })
    if (node.kind === "not") return { not: build(node.node, [...path, "not"]) }
    const nodes = node.nodes.map((n, i) => build(n, [...path, node.kind, i]))
    return node.kind === "and" ? { and: nodes } : { or: nodes }
  }
  const query = build(parsed, ["query"])
  const explain = (error: InvalidRequest): InvalidRequest => {
    const first = error.issues[0]
    const match = first ? PATH_IN_MESSAGE.exec(`${formatPath(first.path)}: `) : PATH_IN_MESSAGE.exec(error.message)
    const found = match ? spans.get(match[1]!) : undefined
    if (!match || !found) return error
    const part = match[2] as "attribute" | "operator" | "value" | undefined
    const span = (part && found[part]) ?? found.whole
    const detail = first ? first.message : error.message.slice(match[0].length)
    return new InvalidRequest({ message: `search, column ${span.start + 1}: ${detail}\n${caretAt(text, span)}`, issues: error.issues })
  }
  return Either.right({ query, explain })
}
