/**
 * Persona's account importer: a CSV file in the spec's columns, one new account per row. The
 * parsing and the row rules are pure and live here; the store runs them over the rows and
 * writes accounts in bulk (store-sql/src/importer.ts). A row never half-applies: it becomes an
 * account, is found to exist already (its reference id is taken: a duplicate, unchanged), or is
 * refused with errors naming its row, column and problem.
 */
import { Either, Schema } from "effect"
import { ReferenceId } from "./account.js"
import { flatAttributesToFields, flatAttributeName } from "./attributes.js"
import type { AccountType } from "./catalog.js"
import { InvalidRequest } from "./errors.js"
import { checkFields, type Fields, textProblem } from "./fields.js"
import { normalizeTags } from "./engine.js"
import { ImporterId } from "./ids.js"

/** The columns Persona's importer takes (`POST /importer/accounts`), in its order. */
export const IMPORT_COLUMNS = ["reference_id", "name_first", "name_middle", "name_last", "birthdate", "social_security_number", "tags"] as const
export type ImportColumn = (typeof IMPORT_COLUMNS)[number]

/** A file past this many data rows is refused before any row is looked at: split it. */
export const IMPORT_MAX_ROWS = 1_000_000

export interface CsvRecord {
  /** The line the record starts on (1 = the header). */
  readonly line: number
  readonly cells: ReadonlyArray<string>
}

const csvError = (message: string) => new InvalidRequest({ message, issues: [{ path: ["file"], message }] })

/**
 * RFC 4180 CSV: comma-separated, fields optionally in double quotes ("" is a quote inside one,
 * and a quoted field may hold commas and line breaks); CRLF or LF line ends; a UTF-8 byte-order
 * mark is skipped; blank lines are skipped.
 */
export const parseCsv = (text: string): Either.Either<ReadonlyArray<CsvRecord>, InvalidRequest> => {
  const records: Array<CsvRecord> = []
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  let line = 1
  let i = 0
  const n = input.length
  while (i < n) {
    const start = line
    const cells: Array<string> = []
    let ended = false
    while (!ended) {
      let cell = ""
      if (input[i] === '"') {
        i++
        for (;;) {
          const quote = input.indexOf('"', i)
          if (quote === -1) return Either.left(csvError(`line ${start}: a quoted value is never closed (a " is missing)`))
          const chunk = input.slice(i, quote)
          for (let k = chunk.indexOf("\n"); k !== -1; k = chunk.indexOf("\n", k + 1)) line++
          cell += chunk
          if (input[quote + 1] === '"') {
            cell += '"'
            i = quote + 2
          } else {
            i = quote + 1
            break
          }
        }
        const next = input[i]
        if (next !== undefined && next !== "," && next !== "\n" && next !== "\r") {
          return Either.left(csvError(`line ${line}: unexpected text after a closing quote; a " inside a quoted value is written ""`))
        }
      } else {
        let end = i
        while (end < n && input[end] !== "," && input[end] !== "\n" && input[end] !== "\r") end++
        cell = input.slice(i, end)
        if (cell.includes('"')) return Either.left(csvError(`line ${line}: a " in an unquoted value; quote the value and write the quote as ""`))
        i = end
      }
      cells.push(cell)
      if (input[i] === ",") i++
      else {
        if (input[i] === "\r") i++
        if (input[i] === "\n") i++
        line++
        ended = true
      }
      if (i >= n && input[i - 1] === ",") {
        cells.push("")
        ended = true
      }
    }
    if (!(cells.length === 1 && cells[0] === "")) records.push({ line: start, cells })
  }
  return Either.right(records)
}

/** The header, checked: only the importer's columns, each once, reference_id among them. */
export const checkImportHeader = (header: ReadonlyArray<string>): Either.Either<ReadonlyArray<ImportColumn>, InvalidRequest> => {
  const names = header.map((h) => h.trim().toLowerCase())
  const unknown = names.filter((n) => !(IMPORT_COLUMNS as ReadonlyArray<string>).includes(n))
  if (unknown.length > 0) {
    return Either.left(csvError(`line 1: unknown column${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => JSON.stringify(u.slice(0, 40))).join(", ")}; the columns are ${IMPORT_COLUMNS.join(", ")}`))
  }
  const twice = names.filter((n, i) => names.indexOf(n) !== i)
  if (twice.length > 0) return Either.left(csvError(`line 1: the column ${twice[0]} appears twice`))
  if (!names.includes("reference_id")) {
    return Either.left(csvError("line 1: the reference_id column is required: each row's reference id makes importing the same file again change nothing"))
  }
  return Either.right(names as ReadonlyArray<ImportColumn>)
}

/** One problem with one row: which row (its line in the file), which column, what. */
export interface ImportRowError {
  readonly row: number
  /** null when the problem is the row as a whole (e.g. the wrong number of values). */
  readonly column: string | null
  readonly problem: string
}

/** A row that passed: what the account will be. */
export interface ImportRow {
  readonly line: number
  readonly referenceId: string
  readonly fields: Fields
  readonly tags: ReadonlyArray<string>
}

/** The column a field path came from, through the type's flat-attribute mapping (`name.first` → `name_first`). */
const columnOf = (type: AccountType, columns: ReadonlyArray<ImportColumn>, path: ReadonlyArray<string | number>): string | null => {
  const dotted = path.filter((p) => typeof p === "string").join(".")
  for (const column of columns) {
    const attribute = flatAttributeName(column)
    const target = attribute === undefined ? undefined : type.attributes?.[attribute]
    if (target !== undefined && (dotted === target || dotted.startsWith(`${target}.`))) return column
  }
  return null
}

/**
 * One CSV record as an account of `type`, or every problem it has. Empty cells set nothing;
 * `tags` holds tags separated by commas (a tag never contains one).
 */
export const importRow = (type: AccountType, columns: ReadonlyArray<ImportColumn>, record: CsvRecord): Either.Either<ImportRow, ReadonlyArray<ImportRowError>> => {
  const row = record.line
  if (record.cells.length !== columns.length) {
    return Either.left([{ row, column: null, problem: `has ${record.cells.length} value${record.cells.length === 1 ? "" : "s"}; the header has ${columns.length} columns` }])
  }
  const errors: Array<ImportRowError> = []
  const attributes: Record<string, string> = {}
  let referenceId = ""
  let tags: ReadonlyArray<string> = []
  columns.forEach((column, i) => {
    const value = record.cells[i]!.trim()
    if (column === "reference_id") referenceId = value
    else if (column === "tags") {
      const normalized = normalizeTags(value === "" ? [] : value.split(",").map((t) => t.trim()).filter((t) => t !== ""))
      if (Either.isLeft(normalized)) errors.push({ row, column, problem: normalized.left.issues.map((issue) => issue.message).join("; ") || normalized.left.message })
      else tags = normalized.right
    } else if (value !== "") {
      const problem = textProblem(value)
      if (problem) errors.push({ row, column, problem })
      else attributes[column] = value
    }
  })
  if (referenceId === "") errors.push({ row, column: "reference_id", problem: "is required (it makes importing the same file again change nothing)" })
  else if (!Schema.is(ReferenceId)(referenceId)) errors.push({ row, column: "reference_id", problem: "expected 1–255 characters without spaces or control characters" })
  const mapped = flatAttributesToFields(type.attributes, attributes)
  if (Either.isLeft(mapped)) {
    for (const issue of mapped.left) errors.push({ row, column: String(issue.path[issue.path.length - 1]), problem: issue.message })
    return Either.left(errors)
  }
  const fields = checkFields(type.fields, mapped.right, [], "all")
  if (Either.isLeft(fields)) for (const issue of fields.left) errors.push({ row, column: columnOf(type, columns, issue.path), problem: issue.message })
  return errors.length > 0 || Either.isLeft(fields) ? Either.left(errors) : Either.right({ line: row, referenceId, fields: fields.right, tags })
}

/** How an import stands (Persona's importer: `pending` until every row is done, then `ready`; `errored` if it stopped). */
export const ImporterStatus = Schema.Literal("pending", "ready", "errored")
export type ImporterStatus = typeof ImporterStatus.Type

export class Importer extends Schema.Class<Importer>("Importer")({
  id: ImporterId,
  status: ImporterStatus,
  accountTypeId: Schema.String,
  /** Data rows in the file (the header not counted). */
  rowCount: Schema.Int,
  successfulCount: Schema.Int,
  duplicateCount: Schema.Int,
  errorCount: Schema.Int,
  createdAt: Schema.Date,
  completedAt: Schema.NullOr(Schema.Date)
}) {}

/** Rows done so far, for a progress bar. */
export const importerDone = (i: Pick<Importer, "successfulCount" | "duplicateCount" | "errorCount">) => i.successfulCount + i.duplicateCount + i.errorCount

/** What the file says, checked as a whole: its rows, or why nothing of it can be imported. */
export const readImportFile = (text: string): Either.Either<{ readonly columns: ReadonlyArray<ImportColumn>; readonly records: ReadonlyArray<CsvRecord> }, InvalidRequest> =>
  Either.flatMap(parseCsv(text), (records) => {
    if (records.length === 0) return Either.left(csvError("the file is empty: expected a header line (reference_id,name_first,…) and rows"))
    if (records.length - 1 > IMPORT_MAX_ROWS) return Either.left(csvError(`the file has ${records.length - 1} rows; at most ${IMPORT_MAX_ROWS} are imported at once: split it`))
    return Either.map(checkImportHeader(records[0]!.cells), (columns) => ({ columns, records: records.slice(1) }))
  })
