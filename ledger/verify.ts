/**
 * `ledger verify`: first the file itself (SQLite's integrity check) and the schema against the migrations
 * (verify-schema.ts); then two passes.
 *  1. The chain: records numbered 1..n without gaps, each `prev_hash` equal to the previous record's hash,
 *     each `hash` equal to sha256(prev_hash + canonical({ seq, kind, at, data })). An edited record fails its
 *     hash; a deleted, inserted or reordered one breaks the sequence or the links.
 *  2. The tables: replay the chain into an in-memory database through the same projection the store uses,
 *     then compare runs / jobs / metrics / artifacts / certificates row by row, by primary key. An UPDATE,
 *     DELETE, INSERT or id swap on a table behind the harness's back shows up as a row that differs from, is
 *     missing from, or is not backed by the chain.
 * Limit: deleting the newest records together with their rows (truncating the tail) leaves a valid shorter
 * chain. `headHash` in the report is the defence: pin it (a CI artifact, a commit message) and compare.
 */
import Database from "better-sqlite3"
import { chainHashOfText, GENESIS_HASH } from "./canonical.js"
import { migrate, PROJECTED_TABLES } from "./migrations.js"
import { ProjectionError } from "./errors.js"
import { Projector } from "./projection.js"
import type { VerifyProblem, VerifyReport } from "./types.js"
import { integrityProblems, schemaProblems, versionProblems } from "./verify-schema.js"

const MAX_PROBLEMS = 20

interface ChainDbRow {
  seq: number
  kind: string
  at: string
  data: string
  prev_hash: string
  hash: string
}

const show = (v: unknown): string => {
  const s = typeof v === "string" ? JSON.stringify(v) : String(v)
  return s.length > 80 ? s.slice(0, 77) + "..." : s
}

export const verifyDatabase = (db: Database.Database, file: string): VerifyReport => {
  const problems: VerifyProblem[] = []
  const note = (p: VerifyProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p)
  }

  // ---- the file: a damaged page makes every later read unreliable, so nothing else is read
  const damage = integrityProblems(db)
  if (damage.length > 0) {
    return { ok: false, file, records: 0, headHash: "", firstBad: damage[0]!, problems: damage.slice(0, MAX_PROBLEMS) }
  }

  const scratch = new Database(":memory:")
  let records = 0
  let prevHash = GENESIS_HASH
  const report = (): VerifyReport => ({
    ok: problems.length === 0,
    file,
    records,
    headHash: prevHash,
    ...(problems.length > 0 ? { firstBad: problems[0] } : {}),
    problems
  })
  try {
    // ---- the schema, against the same migrations run on the replay database
    migrate(scratch)
    const schema = [...schemaProblems(db, scratch), ...versionProblems(db)]
    schema.forEach(note)
    try {
      replayChain(db, scratch, note, (n, head) => {
        records = n
        prevHash = head
      })
    } catch (e) {
      // a schema changed enough that the chain or a table cannot be read the way the harness wrote it
      if (schema.length === 0) throw e
      note({ table: "schema", id: "read", reason: `the ledger cannot be read with its expected schema: ${(e as Error).message}` })
    }
    return report()
  } finally {
    scratch.close()
  }
}

/** Pass 1 (the chain, replayed into `scratch` as it goes) and, on an intact chain, pass 2 (the tables). */
const replayChain = (
  db: Database.Database,
  scratch: Database.Database,
  note: (p: VerifyProblem) => void,
  progress: (records: number, headHash: string) => void
): void => {
  const projector = new Projector(scratch)
  let records = 0
  let expectedSeq = 1
  let prevHash = GENESIS_HASH
  let replayable = true
  scratch.exec("BEGIN")
  const rows = db.prepare("SELECT seq, kind, at, data, prev_hash, hash FROM chain ORDER BY seq").iterate() as IterableIterator<ChainDbRow>
  for (const r of rows) {
    records++
    if (r.seq !== expectedSeq) {
      note({
        table: "chain",
        id: expectedSeq,
        reason:
          r.seq > expectedSeq
            ? `record ${expectedSeq}${r.seq - expectedSeq > 1 ? `..${r.seq - 1}` : ""} is missing (the sequence jumps from ${expectedSeq - 1} to ${r.seq}): records were deleted`
            : `record ${r.seq} appears out of order after ${expectedSeq - 1}`
      })
      replayable = false
    }
    if (r.prev_hash !== prevHash) {
      note({
        table: "chain",
        id: r.seq,
        reason: `prev_hash ${r.prev_hash.slice(0, 12)}… does not match the hash of the record before it (${prevHash.slice(0, 12)}…): records were deleted, inserted or reordered`
      })
      replayable = false
    }
    let data: unknown
    try {
      data = JSON.parse(r.data)
    } catch {
      note({ table: "chain", id: r.seq, reason: "its data is not valid JSON: the record was edited" })
      replayable = false
      prevHash = r.hash
      expectedSeq = r.seq + 1
      continue
    }
    // hashing the stored text (canonical when written) is exact and avoids re-serialising every payload
    if (chainHashOfText(r.prev_hash, r.seq, r.kind, r.at, r.data) !== r.hash) {
      note({ table: "chain", id: r.seq, reason: `its content (${r.kind}) does not match its hash: the record was edited` })
      replayable = false
    }
    if (replayable) {
      try {
        projector.apply(r.seq, r.kind, r.at, data as Record<string, unknown>)
      } catch (e) {
        const reason = e instanceof ProjectionError ? e.message : (e as Error).message
        note({ table: "chain", id: r.seq, reason: `record does not fit the ledger's state: ${reason}` })
        replayable = false
      }
    }
    prevHash = r.hash
    expectedSeq = r.seq + 1
  }
  scratch.exec("COMMIT")

  // ---- pass 2: the tables against what the chain implies (only meaningful on an intact chain)
  progress(records, prevHash)
  if (replayable) {
    for (const { table, key } of PROJECTED_TABLES) compareTable(db, scratch, table, key, note)
  }
}

const compareTable = (
  actualDb: Database.Database,
  expectedDb: Database.Database,
  table: string,
  key: string,
  note: (p: VerifyProblem) => void
): void => {
  const sql = `SELECT * FROM ${table} ORDER BY ${key}`
  const actual = actualDb.prepare(sql).iterate() as IterableIterator<Record<string, unknown>>
  const expected = expectedDb.prepare(sql).iterate() as IterableIterator<Record<string, unknown>>
  let a = actual.next()
  let e = expected.next()
  const cmp = (x: unknown, y: unknown): number => (x === y ? 0 : (x as string | number) < (y as string | number) ? -1 : 1)
  let reported = 0
  while ((!a.done || !e.done) && reported < 5) {
    if (e.done || (!a.done && cmp(a.value[key], e.value[key]) < 0)) {
      note({
        table,
        id: a.value[key] as string | number,
        reason: "row is not backed by any chain record: it was inserted behind the harness's back (or ids were changed)"
      })
      reported++
      a = actual.next()
      continue
    }
    if (a.done || cmp(a.value[key], e.value[key]) > 0) {
      note({
        table,
        id: e.value[key] as string | number,
        reason: "row implied by the chain is missing: it was deleted (or its id changed)"
      })
      reported++
      e = expected.next()
      continue
    }
    for (const column of Object.keys(e.value)) {
      if (!Object.is(a.value[column], e.value[column])) {
        note({
          table,
          id: a.value[key] as string | number,
          reason: `column ${column} is ${show(a.value[column])} but the chain records ${show(e.value[column])}: the row was edited`
        })
        reported++
        break
      }
    }
    a = actual.next()
    e = expected.next()
  }
  actual.return?.()
  expected.return?.()
}
