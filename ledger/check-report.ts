/**
 * What `harness check --format markdown | junit | json` render: the verdicts of `checkRegressions`, and for each
 * cell the ledger records behind its numbers on both sides (the `job.done` record of every seed), so a CI summary
 * or a failed test case points at exactly the records a reviewer can look up with `harness ledger export`.
 * One small module per format (check-format-*.ts) renders a CheckReport; the fixed-width table stays in check.ts.
 */
import type { CheckResult, CheckRow, Threshold, Verdict } from "./check.js"
import { cellOf, type Side } from "./sides.js"
import type { LedgerStore } from "./store.js"
import { formatNumber, formatP, formatPercent, formatSigned } from "./table.js"

/** One job of a cell, named by its `job.done` record (null only for a ledger whose chain lacks it). */
export interface JobRecord {
  readonly job: string
  readonly seed: number
  readonly key: string
  readonly hash: string | null
}

export interface CellRecords {
  readonly baseline: ReadonlyArray<JobRecord>
  readonly candidate: ReadonlyArray<JobRecord>
}

export interface CheckReport {
  readonly result: CheckResult
  /** by cell name, every cell of either side */
  readonly records: ReadonlyMap<string, CellRecords>
}

/** Most alarming first: the order of rows in every format, the same as the table's. */
export const VERDICT_ORDER: ReadonlyArray<Verdict> = [
  "regression",
  "changed (deterministic)",
  "not significant",
  "improvement",
  "missing",
  "untested",
  "within threshold",
  "unchanged",
  "not judged"
]

/** Rows worth a reader's attention: everything but "unchanged" and "not judged" (all rows with `all`). */
export const shownRows = (result: CheckResult, all = false): CheckRow[] =>
  (all ? result.rows : result.rows.filter((r) => r.verdict !== "unchanged" && r.verdict !== "not judged"))
    .slice()
    .sort((x, y) => VERDICT_ORDER.indexOf(x.verdict) - VERDICT_ORDER.indexOf(y.verdict))

/** How many rows got each verdict, in VERDICT_ORDER, verdicts that did not occur left out. */
export const verdictCounts = (result: CheckResult): Array<{ verdict: Verdict; count: number }> =>
  VERDICT_ORDER.map((verdict) => ({ verdict, count: result.rows.filter((r) => r.verdict === verdict).length })).filter((v) => v.count > 0)

export const metricLabel = (row: Pick<CheckRow, "metric" | "length">): string =>
  row.length === null ? row.metric : `${row.metric}@${row.length}`

export const showThreshold = (t: Threshold): string =>
  [t.relative !== undefined ? `${(t.relative * 100).toFixed(1)}%` : null, t.absolute !== undefined ? `${t.absolute}` : null]
    .filter((x) => x !== null)
    .join(" & ") || "any"

/** The cells every check rendering shows after its own leading columns: baseline .. test, in the table's order. */
export const comparisonCells = (r: CheckRow): string[] => [
  formatNumber(r.baseline),
  formatNumber(r.candidate),
  formatSigned(r.change),
  formatPercent(r.relativeChange),
  showThreshold(r.threshold),
  String(r.n),
  formatP(r.pAdjusted),
  r.test?.test ?? r.kind
]

/** job id -> hash of its `job.done` record. One pass over the chain: the tables do not keep record hashes. */
export const doneRecordHashes = (store: LedgerStore): Map<string, string> => {
  const hashes = new Map<string, string>()
  for (const r of store.chainRecords()) {
    if (r.kind === "job.done") hashes.set((r.data as { jobId: string }).jobId, r.hash)
  }
  return hashes
}

const recordsByCell = (side: Side, hashes: ReadonlyMap<string, string>): Map<string, JobRecord[]> => {
  const out = new Map<string, JobRecord[]>()
  for (const { job } of side.jobs) {
    const cell = cellOf(job)
    out.set(cell, [...(out.get(cell) ?? []), { job: job.name, seed: job.seed, key: job.key, hash: hashes.get(job.id) ?? null }])
  }
  for (const list of out.values()) list.sort((a, b) => a.seed - b.seed)
  return out
}

/** Joins a check's verdicts with the records of both sides; `hashes` come from the ledger each side was read from. */
export const buildCheckReport = (
  result: CheckResult,
  baseline: { readonly side: Side; readonly hashes: ReadonlyMap<string, string> },
  candidate: { readonly side: Side; readonly hashes: ReadonlyMap<string, string> }
): CheckReport => {
  const a = recordsByCell(baseline.side, baseline.hashes)
  const b = recordsByCell(candidate.side, candidate.hashes)
  const cells = [...new Set([...a.keys(), ...b.keys()])].sort()
  return { result, records: new Map(cells.map((c) => [c, { baseline: a.get(c) ?? [], candidate: b.get(c) ?? [] }] as const)) }
}
