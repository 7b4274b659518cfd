/**
 * The checks `verify` runs before it reads a single record:
 *  - SQLite's own `integrity_check`: a damaged page (in a table or an index) makes reads return wrong or
 *    partial rows without any error, so the chain would be checked against whatever happened to be readable.
 *  - the schema against what the recorded migrations produce: a column added with a DEFAULT, a trigger that
 *    rewrites rows as they are written, a view or index that was not migrated in, or an edited `schema_version`
 *    history change what the tables say without touching a single chained record.
 * The expected schema is built by running the migrations on an in-memory database (verify's replay database),
 * so it never drifts from migrations.ts.
 */
import type Database from "better-sqlite3"
import { LATEST_SCHEMA_VERSION, LEDGER_APPLICATION_ID, MIGRATIONS } from "./migrations.js"
import type { VerifyProblem } from "./types.js"

/** `integrity_check` stops after this many complaints; the first few say enough. */
const MAX_INTEGRITY_MESSAGES = 5

/**
 * SQLite's integrity check. Returns its complaints (empty when the file is sound); a page so damaged that
 * the check itself cannot run is one complaint.
 */
export const integrityProblems = (db: Database.Database): VerifyProblem[] => {
  let messages: string[]
  try {
    const rows = db.pragma(`integrity_check(${MAX_INTEGRITY_MESSAGES})`) as Array<{ integrity_check: string }>
    // one row can hold several lines, led by a "*** in database main ***" header that names no problem
    messages = rows
      .flatMap((r) => r.integrity_check.split("\n"))
      .filter((m) => m !== "ok" && !/^\*\*\* in database /.test(m))
      .slice(0, MAX_INTEGRITY_MESSAGES)
  } catch (e) {
    messages = [`the integrity check could not run: ${(e as Error).message}`]
  }
  return messages.map((m) => ({
    table: "sqlite",
    id: "integrity_check",
    reason: `the database file is damaged (SQLite integrity_check: ${m})`
  }))
}

interface SchemaObject {
  readonly type: string
  readonly name: string
  readonly tbl_name: string
  readonly sql: string | null
}

interface ColumnInfo {
  readonly name: string
  readonly type: string
  readonly notnull: number
  readonly dflt_value: string | null
  readonly pk: number
  readonly hidden: number
}

/** Whitespace is not part of a schema: `CREATE TABLE IF NOT EXISTS` keeps the text as written. */
const normaliseSql = (sql: string | null): string =>
  (sql ?? "")
    .replace(/\s+/g, " ")
    .replace(/\s*([(),])\s*/g, "$1")
    .trim()

/**
 * SQLite maintains `sqlite_stat*` (ANALYZE, PRAGMA optimize) and `sqlite_sequence` itself; they hold planner
 * statistics, not results, so their presence says nothing about tampering.
 */
const isSqliteInternal = (name: string): boolean => /^sqlite_(stat\d|sequence)$/.test(name)

const schemaObjects = (db: Database.Database): Map<string, SchemaObject> =>
  new Map(
    (db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").all() as SchemaObject[])
      .filter((o) => !isSqliteInternal(o.name))
      .map((o) => [o.name, o])
  )

const columns = (db: Database.Database, table: string): ColumnInfo[] =>
  db.prepare(`SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)`).all(table) as ColumnInfo[]

const describeColumn = (c: ColumnInfo): string =>
  `${c.name} ${c.type}${c.notnull ? " NOT NULL" : ""}${c.dflt_value !== null ? ` DEFAULT ${c.dflt_value}` : ""}`

const describeObject = (o: SchemaObject): string => (o.type === "table" ? `table ${o.name}` : `${o.type} ${o.name} on ${o.tbl_name}`)

/** What `sqlite_master` holds beyond, short of, or different from what the migrations create. */
export const schemaProblems = (actual: Database.Database, expected: Database.Database): VerifyProblem[] => {
  const problems: VerifyProblem[] = []
  const note = (id: string, reason: string) => problems.push({ table: "schema", id, reason })
  const have = schemaObjects(actual)
  const want = schemaObjects(expected)
  for (const [name, o] of want) {
    if (!have.has(name))
      note(name, `${describeObject(o)} is missing: the migrations create it, so it was dropped behind the harness's back`)
  }
  for (const [name, o] of have) {
    const w = want.get(name)
    if (!w) {
      const why =
        o.type === "trigger"
          ? " (a trigger can rewrite rows as they are written)"
          : o.type === "view"
            ? " (a view can stand in for a table in a query)"
            : ""
      note(name, `${describeObject(o)} is not part of the ledger's schema${why}: it was added behind the harness's back`)
      continue
    }
    if (w.type !== o.type || w.tbl_name !== o.tbl_name) {
      note(name, `${describeObject(o)} should be ${describeObject(w)}`)
      continue
    }
    if (o.type === "table") {
      const before = problems.length
      const haveColumns = columns(actual, name)
      const wantColumns = columns(expected, name)
      const wantByName = new Map(wantColumns.map((c) => [c.name, c]))
      const haveByName = new Map(haveColumns.map((c) => [c.name, c]))
      for (const c of haveColumns) {
        const wc = wantByName.get(c.name)
        if (!wc)
          note(
            name,
            `table ${name} has a column "${describeColumn(c)}" that the migrations do not create: it was added behind the harness's back`
          )
        else if (describeColumn(c) !== describeColumn(wc) || c.pk !== wc.pk) {
          note(name, `table ${name}: column "${describeColumn(c)}" should be "${describeColumn(wc)}"`)
        }
      }
      for (const c of wantColumns) {
        if (!haveByName.has(c.name)) note(name, `table ${name} lacks its column "${describeColumn(c)}"`)
      }
      if (problems.length > before) continue
    }
    if (normaliseSql(o.sql) !== normaliseSql(w.sql)) {
      note(name, `${describeObject(o)} is defined as ${JSON.stringify(o.sql)}, but the migrations define ${JSON.stringify(w.sql)}`)
    }
  }
  return problems
}

interface SchemaVersionRow {
  readonly version: number
  readonly description: string
  readonly applied_at: string
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

/** The `schema_version` history and the pragmas against the migrations this harness knows. */
export const versionProblems = (db: Database.Database): VerifyProblem[] => {
  const problems: VerifyProblem[] = []
  const note = (id: string | number, reason: string) => problems.push({ table: "schema_version", id, reason })
  const appId = db.pragma("application_id", { simple: true }) as number
  if (appId !== LEDGER_APPLICATION_ID)
    note("application_id", `PRAGMA application_id is ${appId}, not the ledger's ${LEDGER_APPLICATION_ID} ('FOPE')`)
  const userVersion = db.pragma("user_version", { simple: true }) as number
  if (userVersion !== LATEST_SCHEMA_VERSION)
    note("user_version", `PRAGMA user_version is ${userVersion}, but the migrations reach ${LATEST_SCHEMA_VERSION}`)
  let rows: SchemaVersionRow[]
  try {
    rows = db.prepare("SELECT version, description, applied_at FROM schema_version ORDER BY version").all() as SchemaVersionRow[]
  } catch (e) {
    note("schema_version", `the schema_version history cannot be read: ${(e as Error).message}`)
    return problems
  }
  const recorded = new Map(rows.map((r) => [r.version, r]))
  for (const m of MIGRATIONS) {
    const r = recorded.get(m.version)
    if (!r) {
      note(m.version, `migration ${m.version} ("${m.description}") is not in the schema_version history: the row was deleted`)
      continue
    }
    if (r.description !== m.description) {
      note(
        m.version,
        `migration ${m.version} is recorded as ${JSON.stringify(r.description)}, but it is "${m.description}": the row was edited`
      )
    }
    if (typeof r.applied_at !== "string" || !ISO_INSTANT.test(r.applied_at) || Number.isNaN(Date.parse(r.applied_at))) {
      note(m.version, `migration ${m.version} has applied_at ${JSON.stringify(r.applied_at)}, not an ISO 8601 instant: the row was edited`)
    }
  }
  for (const r of rows) {
    if (!MIGRATIONS.some((m) => m.version === r.version)) {
      note(
        r.version,
        `schema_version holds version ${JSON.stringify(r.version)} ("${r.description}"), which no migration creates: the row was added behind the harness's back`
      )
    }
  }
  return problems
}
