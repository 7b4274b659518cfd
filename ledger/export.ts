/**
 * Export and import.
 *  - JSON Lines: a header line, then one chain record per line in canonical JSON (`seq, kind, at, data,
 *    prevHash, hash`). Append-only and line-stable, so it diffs well in git; importing it recomputes every
 *    hash and link before writing anything, and keeps every seq and hash (a round trip is exact).
 *  - CSV: one row per metric with its job and run (RFC 4180 quoting), for spreadsheets and pandas.
 *  - Bencher Metric Format (BMF) JSON: { "<benchmark>": { "<measure>": { value, lower_value, upper_value } } }
 *    with benchmark = "<cell>@<length>" (or "<cell>"), measure = metric name, value = mean over seeds and
 *    repeats, lower/upper = min/max; final-step values only.
 */
import { canonicalJson, chainHash, GENESIS_HASH } from "./canonical.js"
import { ledgerError } from "./errors.js"
import { groupCells, loadSide } from "./sides.js"
import { mean } from "./stats.js"
import type { LedgerStore } from "./store.js"
import type { ChainRecord, RecordKind, VerifyProblem } from "./types.js"

export const JSONL_FORMAT = "fope-harness-ledger"
export const JSONL_VERSION = 1

/** The JSON Lines export of a ledger's whole chain (newline-terminated). */
export function* exportJsonlLines(store: LedgerStore): Generator<string> {
  yield canonicalJson({ format: JSONL_FORMAT, version: JSONL_VERSION })
  for (const r of store.chainRecords()) {
    yield canonicalJson({ seq: r.seq, kind: r.kind, at: r.at, data: r.data, prevHash: r.prevHash, hash: r.hash })
  }
}

export const exportJsonl = (store: LedgerStore): string => [...exportJsonlLines(store)].join("\n") + "\n"

export interface ParsedJsonl {
  readonly records: ReadonlyArray<ChainRecord>
  readonly problems: ReadonlyArray<VerifyProblem>
}

/** Parses a JSON Lines export and verifies its chain (sequence, links, hashes) without touching a database. */
export const parseJsonl = (text: string, source = "export"): ParsedJsonl => {
  const lines = text.split("\n").filter((l) => l.trim().length > 0)
  const problems: VerifyProblem[] = []
  if (lines.length === 0) return { records: [], problems: [{ table: "jsonl", id: 0, reason: `${source} is empty` }] }
  let header: { format?: unknown; version?: unknown }
  try {
    header = JSON.parse(lines[0])
  } catch {
    header = {}
  }
  if (header.format !== JSONL_FORMAT) {
    return {
      records: [],
      problems: [{ table: "jsonl", id: 1, reason: `${source} line 1 is not a ${JSONL_FORMAT} header; is this a ledger export?` }]
    }
  }
  if (header.version !== JSONL_VERSION) {
    return {
      records: [],
      problems: [
        {
          table: "jsonl",
          id: 1,
          reason: `${source} is format version ${String(header.version)}; this harness reads version ${JSONL_VERSION}`
        }
      ]
    }
  }
  const records: ChainRecord[] = []
  let prev = GENESIS_HASH
  for (let i = 1; i < lines.length; i++) {
    let r: ChainRecord
    try {
      r = JSON.parse(lines[i])
    } catch {
      problems.push({ table: "jsonl", id: i + 1, reason: `line ${i + 1} is not valid JSON` })
      break
    }
    if (r.seq !== i)
      problems.push({
        table: "chain",
        id: r.seq,
        reason: `line ${i + 1} holds record ${r.seq}, expected ${i}: records were removed or reordered`
      })
    else if (r.prevHash !== prev)
      problems.push({ table: "chain", id: r.seq, reason: `record ${r.seq}'s prevHash does not match the record before it` })
    else if (chainHash(r.prevHash, { seq: r.seq, kind: r.kind, at: r.at, data: r.data }) !== r.hash) {
      problems.push({ table: "chain", id: r.seq, reason: `record ${r.seq} (${r.kind}) does not match its hash: it was edited` })
    }
    if (problems.length > 0) break
    records.push({ seq: r.seq, kind: r.kind as RecordKind, at: r.at, data: r.data, prevHash: r.prevHash, hash: r.hash })
    prev = r.hash
  }
  return { records, problems }
}

/** Imports a JSON Lines export into `store` (empty, or ending where the export continues). Returns records imported. */
export const importJsonl = (store: LedgerStore, text: string, source = "export"): number => {
  const parsed = parseJsonl(text, source)
  if (parsed.problems.length > 0) {
    const p = parsed.problems[0]
    throw ledgerError("tampered", source, `refusing to import ${source}: ${p.reason} (${p.table} ${p.id}); nothing was written`)
  }
  const head = store.head()
  const have = head?.seq ?? 0
  // re-importing records we already hold is a no-op for those; the rest must continue our chain
  const fresh = parsed.records.filter((r) => r.seq > have)
  if (head) {
    const theirs = parsed.records[have - 1]
    if (theirs === undefined || theirs.hash !== head.hash) {
      throw ledgerError(
        "invalid",
        store.file,
        `${source} does not extend ${store.file} (record ${have} differs); import into a new ledger file, or use harness ledger merge`
      )
    }
  }
  return store.importRecords(fresh)
}

const csvField = (v: unknown): string => {
  const s = v === null || v === undefined ? "" : String(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** One CSV row per metric of every job (done or not), header first. */
export const exportCsv = (store: LedgerStore): string => {
  const header = [
    "run_id",
    "suite",
    "git_commit",
    "job_id",
    "job_key",
    "job_name",
    "seed",
    "status",
    "metric",
    "value",
    "unit",
    "better",
    "length",
    "step"
  ]
  const lines = [header.join(",")]
  const runs = new Map(store.runs().map((r) => [r.id, r] as const))
  for (const job of store.jobs()) {
    const run = runs.get(job.runId)
    for (const m of store.metrics(job.id)) {
      lines.push(
        [
          run?.id,
          job.suite,
          run?.gitCommit,
          job.id,
          job.key,
          job.name,
          job.seed,
          job.status,
          m.name,
          m.value,
          m.unit,
          m.better,
          m.length,
          m.step
        ]
          .map(csvField)
          .join(",")
      )
    }
  }
  return lines.join("\n") + "\n"
}

export type BencherMetricFormat = Record<string, Record<string, { value: number; lower_value: number; upper_value: number }>>

/** Bencher Metric Format of the done jobs (latest per key) of the whole ledger or one run. */
export const exportBmf = (store: LedgerStore, runId?: string): BencherMetricFormat => {
  const side = loadSide(store, runId ? { kind: "run", runId } : { kind: "all" })
  const out: BencherMetricFormat = {}
  for (const cell of groupCells(side).values()) {
    for (const series of cell.metrics.values()) {
      const benchmark = series.key.length === null ? cell.name : `${cell.name}@${series.key.length}`
      const all = [...series.bySeed.values()].flat()
      out[benchmark] ??= {}
      out[benchmark][series.key.name] = { value: mean(all), lower_value: Math.min(...all), upper_value: Math.max(...all) }
    }
  }
  return out
}
