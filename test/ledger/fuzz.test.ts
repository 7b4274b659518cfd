/**
 * Seeded fuzzing of the two inputs a user hands the harness: a ledger file and a suite file.
 *
 * Ledger: a real ledger (the committed CI baseline, recorded by a real smoke run, plus synthetic runs so the file
 * spans many pages) is mutated a few hundred times, in SQL (cell edits down to one ulp, deletes, forged and
 * swapped rows, schema changes, pragmas) and in bytes (overwrites anywhere in the file, truncation). The oracle:
 * every mutation that changes what the file says (its schema, its rows, its pragmas, or SQLite's own integrity)
 * must be reported by `verifyCommand`, exit 1 (tampered, damaged, schema changed) or 2 (cannot be read as a
 * ledger), with a message; a mutation that leaves all of that identical (free space, a header counter) is
 * counted as having no effect. `schema_version.applied_at` is the one value outside the chain's protection:
 * verify only checks that it is an ISO instant, so an edit to another valid instant is counted separately.
 *
 * Suite: a shipped suite is mutated (values swapped for absurd ones, keys deleted or added, lists repeated); each
 * result must either decode into a suite within every bound, or be refused by a SuiteError whose lines each name
 * a path. Any other exception is a failure.
 *
 * The counts are printed; CI runs this file with the rest (37 s measured on 2 cores at a load average of 30). The mutations are seeded; the ledger's run ids and timestamps are not, so how many byte
 * overwrites land in free space varies by a few from run to run, never the verdict on the others.
 */
import { copyFileSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { SeededRandom } from "../../embeddings/seeded-random.js"
import { importCommand, verifyCommand } from "../../ledger/commands.js"
import { LedgerStore } from "../../ledger/store.js"
import { loadSuiteSync, parseSuiteSync } from "../../harness/suite/load-suite.js"
import { expandCells } from "../../harness/plan/expand.js"
import { SuiteError } from "../../harness/errors.js"
import { LIMITS, SUITE_NAME_PATTERN } from "../../suites/schema.js"
import { lossAt, tempDir, writeRun } from "./helpers.js"

const LEDGER_MUTATIONS = 320
const SUITE_MUTATIONS = 400

// ------------------------------------------------------------------ the ledger

/**
 * Everything a ledger file says, as text: pragmas, schema, every row of every table (SQLite's own view).
 * `withoutAppliedAt` blanks the one column the chain does not protect.
 */
const logicalDump = (path: string, withoutAppliedAt = false): string => {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const parts: string[] = [
      `user_version=${db.pragma("user_version", { simple: true })}`,
      `application_id=${db.pragma("application_id", { simple: true })}`
    ]
    const objects = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").all() as Array<Record<string, unknown>>
    parts.push(JSON.stringify(objects))
    for (const o of objects.filter((x) => x.type === "table")) {
      const blank = withoutAppliedAt && o.name === "schema_version"
      const rows = db
        .prepare(
          blank ? `SELECT version, description FROM schema_version ORDER BY rowid` : `SELECT * FROM "${String(o.name)}" ORDER BY rowid`
        )
        .raw()
        .all()
      parts.push(`${String(o.name)}:${JSON.stringify(rows, (_, v) => (typeof v === "bigint" ? `${v}n` : v))}`)
    }
    return parts.join("\n")
  } finally {
    db.close()
  }
}

const integrityOk = (path: string): boolean => {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const rows = db.pragma("integrity_check") as Array<{ integrity_check: string }>
    return rows.length === 1 && rows[0]!.integrity_check === "ok"
  } finally {
    db.close()
  }
}

/** A ledger from real records: the CI baseline's export imported, then synthetic runs so it spans many pages. */
const realLedger = (dir: string): string => {
  const path = join(dir, "real.db")
  const imported = importCommand({ ledger: path, from: join(import.meta.dirname, "../../baselines/smoke.jsonl") })
  expect(imported.exitCode, imported.text).toBe(0)
  const store = LedgerStore.open(path)
  for (const r of [0, 1]) {
    writeRun(
      store,
      ["rope", "fope", "alibi", "nope"].flatMap((cell, c) =>
        [0, 1].map((seed) => ({ cell, seed, metrics: lossAt([32, 64, 128, 256], (l) => 2 + c / 10 + seed / 100 + r / 1000 + l / 1e4) }))
      ),
      { suite: "fuzz" }
    )
  }
  store.close()
  return path
}

type Rng = SeededRandom
const pick = <A>(rng: Rng, xs: ReadonlyArray<A>): A => xs[rng.nextUint32() % xs.length]!
const int = (rng: Rng, n: number): number => rng.nextUint32() % n

/** The next representable double after x (one ulp). */
const nextUlp = (x: number): number => {
  const b = new Float64Array([x])
  const u = new BigInt64Array(b.buffer)
  u[0] = u[0]! + (x >= 0 ? 1n : -1n)
  return b[0]!
}

const mutateValue = (rng: Rng, v: unknown): unknown => {
  if (typeof v === "number") return pick(rng, [nextUlp(v), v + 1, -v - 1, v * 2 + 1, Number.isInteger(v) ? v + 0.5 : Math.round(v) + 7])
  if (typeof v === "string") {
    if (v.length === 0) return "x"
    const i = int(rng, v.length)
    const c = v.charCodeAt(i)
    return v.slice(0, i) + String.fromCharCode(c === 0x30 ? 0x31 : c ^ 1 || 0x41) + v.slice(i + 1)
  }
  if (v === null) return pick(rng, [0, "forged"])
  return null
}

interface SqlMutation {
  readonly kind: string
  /** run against the copy; returns false when it turned out to change nothing */
  readonly apply: (db: Database.Database) => boolean
}

const TABLES = ["chain", "runs", "jobs", "metrics", "artifacts", "certificates", "schema_version"] as const

const sqlMutation = (rng: Rng): SqlMutation => {
  const kind = pick(rng, ["edit-cell", "edit-cell", "edit-cell", "delete-row", "forge-row", "swap-values", "schema", "pragma"])
  switch (kind) {
    case "edit-cell":
    case "delete-row":
    case "forge-row":
    case "swap-values":
      return {
        kind,
        apply: (db) => {
          const table = pick(rng, TABLES)
          const rows = db.prepare(`SELECT rowid AS _rowid_, * FROM ${table}`).all() as Array<Record<string, unknown>>
          if (rows.length === 0) return false
          const row = pick(rng, rows)
          const columns = Object.keys(row).filter((c) => c !== "_rowid_")
          if (kind === "delete-row") {
            try {
              return db.prepare(`DELETE FROM ${table} WHERE rowid = ?`).run(row._rowid_).changes > 0
            } catch {
              return false // a row others reference: SQLite's foreign keys refuse the delete
            }
          }
          if (kind === "forge-row") {
            // a copy of a real row under a new key: the same content, not backed by the chain
            const values = columns.map((c) =>
              c === columns[0] ? (typeof row[c] === "number" ? (row[c] as number) + 100_000 : `${String(row[c])}-forged`) : row[c]
            )
            try {
              return (
                db.prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`).run(...values)
                  .changes > 0
              )
            } catch {
              return false // a UNIQUE constraint: SQLite itself refuses this forgery
            }
          }
          if (kind === "swap-values") {
            const other = pick(rng, rows)
            const column = pick(rng, columns)
            if (other._rowid_ === row._rowid_ || other[column] === row[column]) return false
            try {
              db.transaction(() => {
                db.prepare(`UPDATE ${table} SET ${column} = ? WHERE rowid = ?`).run(other[column], row._rowid_)
                db.prepare(`UPDATE ${table} SET ${column} = ? WHERE rowid = ?`).run(row[column], other._rowid_)
              })()
              return true
            } catch {
              return false
            }
          }
          const column = pick(rng, columns)
          const value = mutateValue(rng, row[column])
          if (Object.is(value, row[column])) return false
          try {
            return db.prepare(`UPDATE ${table} SET ${column} = ? WHERE rowid = ?`).run(value as never, row._rowid_).changes > 0
          } catch {
            return false // NOT NULL, CHECK or UNIQUE: SQLite refused the edit
          }
        }
      }
    case "schema":
      return {
        kind,
        apply: (db) => {
          db.exec(
            pick(rng, [
              "ALTER TABLE jobs ADD COLUMN note TEXT DEFAULT 'forged'",
              "ALTER TABLE metrics ADD COLUMN adjusted REAL",
              "CREATE TRIGGER shave AFTER INSERT ON metrics BEGIN UPDATE metrics SET value = value * 0.9 WHERE id = NEW.id; END",
              "CREATE TRIGGER keep BEFORE DELETE ON chain BEGIN SELECT 1; END",
              "CREATE VIEW best AS SELECT * FROM metrics WHERE value < 3",
              "CREATE INDEX metrics_by_value ON metrics(value)",
              "DROP INDEX jobs_by_status",
              "DROP INDEX jobs_by_key; CREATE INDEX jobs_by_key ON jobs(key)",
              "CREATE TABLE notes (body TEXT)"
            ])
          )
          return true
        }
      }
    default:
      return {
        kind,
        apply: (db) => {
          db.pragma(pick(rng, ["user_version = 0", "user_version = 2", "application_id = 0", "application_id = 1"]))
          return true
        }
      }
  }
}

interface ByteMutation {
  readonly kind: string
  readonly apply: (path: string) => void
}

const byteMutation = (rng: Rng): ByteMutation => {
  const kind = pick(rng, ["overwrite-few", "overwrite-few", "overwrite-block", "flip-bit", "truncate"])
  return {
    kind,
    apply: (path) => {
      const bytes = readFileSync(path)
      if (kind === "truncate") {
        truncateSync(path, int(rng, bytes.length))
        return
      }
      const length = kind === "flip-bit" ? 1 : kind === "overwrite-block" ? 2048 : 1 + int(rng, 64)
      const at = int(rng, Math.max(1, bytes.length - length))
      for (let i = at; i < Math.min(bytes.length, at + length); i++)
        bytes[i] = kind === "flip-bit" ? bytes[i]! ^ (1 << int(rng, 8)) : rng.nextUint32() & 0xff
      writeFileSync(path, bytes)
    }
  }
}

interface Tally {
  mutations: number
  detected: number
  noEffect: number
  unprotectedAppliedAt: number
  missed: string[]
  byVerdict: Record<string, number>
  byKind: Record<string, number>
}

describe("fuzz: a real ledger mutated a few hundred times", () => {
  it(`${LEDGER_MUTATIONS} seeded mutations in SQL and in bytes: every one that changes the ledger is reported, cleanly`, () => {
    const dir = tempDir()
    const original = realLedger(dir)
    expect(verifyCommand(original).exitCode).toBe(0)
    const originalDump = logicalDump(original)
    const originalProtected = logicalDump(original, true)
    const rng = SeededRandom.create(20261130, "ledger-fuzz")
    const tally: Tally = { mutations: 0, detected: 0, noEffect: 0, unprotectedAppliedAt: 0, missed: [], byVerdict: {}, byKind: {} }
    for (let i = 0; i < LEDGER_MUTATIONS; i++) {
      const path = join(dir, `m${i}.db`)
      copyFileSync(original, path)
      let kind: string
      if (i % 2 === 0) {
        const m = sqlMutation(rng)
        kind = `sql:${m.kind}`
        const db = new Database(path)
        const changed = m.apply(db)
        db.close()
        if (!changed) {
          i-- // draw again: this one changed nothing or SQLite refused it
          continue
        }
      } else {
        const m = byteMutation(rng)
        kind = `bytes:${m.kind}`
        m.apply(path)
      }
      tally.mutations++
      tally.byKind[kind] = (tally.byKind[kind] ?? 0) + 1

      // the oracle: did the mutation change anything the file says?
      let effect: "none" | "applied_at" | "yes" = "yes"
      try {
        if (statSync(path).size > 0 && integrityOk(path)) {
          const dump = logicalDump(path)
          if (dump === originalDump) effect = "none"
          else if (logicalDump(path, true) === originalProtected) effect = "applied_at"
        }
      } catch {
        effect = "yes" // SQLite cannot even read it back
      }

      const before = readFileSync(path)
      const out = verifyCommand(path) // must not throw: that would fail the test here
      expect([0, 1, 2], `${kind}: exit code`).toContain(out.exitCode)
      expect(out.text.length, `${kind}: a message`).toBeGreaterThan(0)
      expect(readFileSync(path).equals(before), `${kind}: verify left the file as it was`).toBe(true)
      const verdict = out.exitCode === 0 ? "ok" : (/^(\w[\w ]*?):/.exec(out.text)?.[1] ?? `exit ${out.exitCode}`)
      tally.byVerdict[verdict] = (tally.byVerdict[verdict] ?? 0) + 1
      if (effect === "none") {
        tally.noEffect++
        expect(out.exitCode, `${kind}: a mutation with no effect still verifies`).toBe(0)
      } else if (effect === "applied_at" && out.exitCode === 0) {
        tally.unprotectedAppliedAt++
      } else if (out.exitCode === 0) {
        tally.missed.push(`#${i} ${kind}`)
      } else {
        tally.detected++
      }
    }
    console.log(
      `ledger fuzz: ${tally.mutations} mutations, ${tally.detected} detected, ${tally.noEffect} without effect (verified ok), ` +
        `${tally.unprotectedAppliedAt} applied_at edits to another valid instant (not chained), ${tally.missed.length} missed\n` +
        `  by kind: ${JSON.stringify(tally.byKind)}\n  verdicts: ${JSON.stringify(tally.byVerdict)}`
    )
    expect(tally.missed).toEqual([])
    expect(tally.detected).toBeGreaterThan(LEDGER_MUTATIONS * 0.8)
  }, 120_000)
})

// ------------------------------------------------------------------ the suite

const ABSURD: ReadonlyArray<unknown> = [
  -1,
  0,
  0.5,
  1.5,
  1e12,
  1e308,
  -1e308,
  2 ** 32,
  2 ** 53 + 2,
  "",
  "x",
  "../../etc",
  "a\nb",
  "\u0000",
  "rope",
  null,
  true,
  [],
  {},
  [0, 0],
  [1e9],
  Array.from({ length: 2000 }, (_, i) => i)
]

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/** Every path to a value inside `value` (containers included). */
const paths = (value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> => {
  const out: Array<Array<string | number>> = [prefix]
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])))
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]))
  return out
}

const mutateSuite = (rng: Rng, suite: Json): { data: Json; what: string } => {
  const data = JSON.parse(JSON.stringify(suite)) as Json
  const all = paths(data).filter((p) => p.length > 0)
  const target = pick(rng, all)
  const parent = target.slice(0, -1).reduce<any>((o, k) => o[k], data)
  const key = target[target.length - 1]!
  const op = pick(rng, ["replace", "replace", "replace", "delete", "add-key", "repeat", "huge-list"])
  switch (op) {
    case "replace":
      parent[key] = JSON.parse(JSON.stringify(pick(rng, ABSURD)))
      break
    case "delete":
      if (Array.isArray(parent)) parent.splice(Number(key), 1)
      else delete parent[key]
      break
    case "add-key":
      if (parent[key] !== null && typeof parent[key] === "object" && !Array.isArray(parent[key])) parent[key].unexpected = 1
      else parent[key] = { unexpected: 1 }
      break
    case "repeat":
      if (Array.isArray(parent)) parent.push(parent[Number(key)])
      else parent[key] = [parent[key], parent[key]]
      break
    default:
      parent[key] = Array.from({ length: 200_000 }, (_, i) => i)
  }
  return { data, what: `${op} ${target.join(".")}` }
}

/** What every accepted suite must satisfy: the bounds hold, and its plan is small enough to expand. */
const assertWithinBounds = (suite: ReturnType<typeof parseSuiteSync>, what: string): void => {
  const t = suite.training
  expect(SUITE_NAME_PATTERN.test(suite.name), what).toBe(true)
  expect(t.steps, what).toBeLessThanOrEqual(LIMITS.steps.maximum)
  expect(t.length, what).toBeLessThanOrEqual(LIMITS.trainLength.maximum)
  expect(t.batchSize, what).toBeLessThanOrEqual(LIMITS.batchSize.maximum)
  expect(t.learningRate, what).toBeLessThanOrEqual(LIMITS.learningRate.maximum)
  expect(t.warmupSteps ?? 0, what).toBeLessThanOrEqual(t.steps)
  expect(new Set(suite.seeds).size, what).toBe(suite.seeds.length)
  expect(
    suite.seeds.every((s) => s <= LIMITS.seed.maximum),
    what
  ).toBe(true)
  expect(suite.evaluation.maxWindows ?? 1, what).toBeLessThanOrEqual(LIMITS.maxWindows.maximum)
  const cells = Effect.runSync(expandCells(suite))
  expect(cells.length, what).toBeLessThanOrEqual(LIMITS.jobs.maximum)
}

describe("fuzz: a suite file mutated a few hundred times", () => {
  it(`${SUITE_MUTATIONS} seeded mutations of length-generalization: each decodes within bounds or is refused with paths`, () => {
    const base = JSON.parse(readFileSync(loadSuiteSync("length-generalization").path, "utf8")) as Json
    const rng = SeededRandom.create(20261130, "suite-fuzz")
    let accepted = 0
    let refused = 0
    let slowest = 0
    for (let i = 0; i < SUITE_MUTATIONS; i++) {
      const { data, what } = mutateSuite(rng, base)
      const started = performance.now()
      try {
        assertWithinBounds(parseSuiteSync(data, "fuzzed.json"), what)
        accepted++
      } catch (e) {
        if (!(e instanceof SuiteError)) throw new Error(`${what}: not a SuiteError: ${String(e)}`, { cause: e })
        const lines = e.message.split("\n").filter((l) => l.startsWith("  - "))
        expect(lines.length, `${what}: at least one problem listed`).toBeGreaterThan(0)
        for (const line of lines) expect(line, what).toMatch(/^ {2}- (\(top level\)|[A-Za-z$][\w$]*(\.[\w$@]+|\[\d+\])*)( \([^)]*\))?: \S/)
        refused++
      }
      slowest = Math.max(slowest, performance.now() - started)
    }
    console.log(
      `suite fuzz: ${SUITE_MUTATIONS} mutations, ${accepted} accepted within bounds, ${refused} refused with paths; slowest ${slowest.toFixed(0)} ms`
    )
    expect(accepted + refused).toBe(SUITE_MUTATIONS)
    expect(refused).toBeGreaterThan(SUITE_MUTATIONS / 2)
    expect(slowest).toBeLessThan(1000)
  }, 120_000)
})
