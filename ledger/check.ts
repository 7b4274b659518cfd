/**
 * `harness check --baseline <file or run>`: did the candidate regress against the baseline?
 *
 * A regression (asv's rule, made per metric): a change that is significant after Holm's correction across
 * every tested metric x length, AND beyond the metric's threshold in its bad direction. Per row:
 *   - deterministic cells (every job on both sides recorded reproducibility "bitwise"): no statistics (there is
 *     no noise to test against), the per-seed values are compared exactly; ANY change, either direction, is
 *     flagged "changed (deterministic)" in the table (on a bitwise backend a changed number means a changed
 *     computation), and it is a regression when it is in the bad direction AND beyond the threshold;
 *   - quality metrics: paired by seed, one-sided in the bad direction: exact sign-flip permutation for 5..16
 *     pairs (distribution-free; 2^-n is its smallest p), paired t-test for 2..4 pairs (where a sign-flip test
 *     cannot reach any usual level) and for more than 16; one seed on a non-deterministic backend cannot be
 *     tested ("untested", never a regression; add seeds);
 *   - timing metrics (time units, x/s): the repeats of all seeds pooled, Mann-Whitney U one-sided in the bad
 *     direction (exact without ties); the change is the difference of medians.
 * Thresholds come from the suite file (`thresholds: { "<metric>": { relative?, absolute? } }`); a metric
 * without one gets `defaultThreshold` (5% relative). "Beyond" means beyond every bound given.
 * Metrics with better = "none" are shown, never judged. Exit code 1 when there is a regression, else 0.
 */
import { pairedBySeed } from "./diff.js"
import { compareMetricKeys, groupCells, isMeasurementUnit, type MetricSeries, type Side } from "./sides.js"
import { holmAdjust, mannWhitneyU, mean, welchTTest, type TestResult } from "./stats.js"
import { renderFixedWidth } from "./table.js"
import { comparisonCells, shownRows } from "./check-report.js"

export interface Threshold {
  /** fraction of the baseline value, e.g. 0.05 */
  readonly relative?: number
  /** in the metric's unit */
  readonly absolute?: number
}

export type Verdict =
  | "regression"
  | "changed (deterministic)"
  | "improvement"
  | "not significant"
  | "within threshold"
  | "unchanged"
  | "untested"
  | "missing"
  | "not judged"

export interface CheckRow {
  readonly cell: string
  readonly metric: string
  readonly length: number | null
  readonly unit: string
  readonly better: "lower" | "higher" | "none"
  readonly kind: "quality" | "timing" | "deterministic"
  readonly baseline: number | null
  readonly candidate: number | null
  readonly change: number | null
  readonly relativeChange: number | null
  readonly n: number
  readonly test: TestResult | null
  readonly pAdjusted: number | null
  readonly threshold: Threshold
  readonly verdict: Verdict
  /** counts toward the exit code */
  readonly regression: boolean
}

export interface CheckOptions {
  readonly thresholds?: Readonly<Record<string, Threshold>>
  readonly defaultThreshold?: Threshold
  /** family-wise error rate for Holm's procedure (default 0.05) */
  readonly alpha?: number
}

export interface CheckResult {
  readonly baseline: string
  readonly candidate: string
  readonly alpha: number
  readonly rows: ReadonlyArray<CheckRow>
  readonly regressions: ReadonlyArray<CheckRow>
  readonly exitCode: 0 | 1
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Is a change of `change` (candidate - baseline) beyond the threshold in the direction `sign` (+1 worse-up, -1 worse-down)? */
const beyond = (change: number, baseline: number, threshold: Threshold): boolean => {
  const size = Math.abs(change)
  if (size === 0) return false
  if (threshold.absolute !== undefined && !(size > threshold.absolute)) return false
  if (threshold.relative !== undefined && !(baseline === 0 ? size > 0 : size / Math.abs(baseline) > threshold.relative)) return false
  return true
}

interface Pending {
  row: Omit<CheckRow, "pAdjusted" | "verdict" | "regression">
  fixedVerdict?: Verdict
  /** p-value of the same test in the GOOD direction: an improvement must be significant too */
  goodP?: number
}

const judgeSeries = (cell: string, a: MetricSeries, b: MetricSeries | undefined, threshold: Threshold): Pending => {
  const timing = isMeasurementUnit(a.unit)
  const kind: CheckRow["kind"] = timing ? "timing" : a.bitwise && b?.bitwise ? "deterministic" : "quality"
  const base = {
    cell,
    metric: a.key.name,
    length: a.key.length,
    unit: a.unit,
    better: a.better,
    kind,
    threshold
  }
  if (!b) {
    return {
      row: {
        ...base,
        baseline: mean([...a.bySeed.values()].map(mean)),
        candidate: null,
        change: null,
        relativeChange: null,
        n: 0,
        test: null
      },
      fixedVerdict: "missing"
    }
  }
  // the bad direction, as the alternative hypothesis on (candidate - baseline)
  const alternative = a.better === "lower" ? "greater" : "less"
  if (timing) {
    const xa = [...a.bySeed.values()].flat()
    const xb = [...b.bySeed.values()].flat()
    const ma = median(xa)
    const change = median(xb) - ma
    const test = a.better === "none" ? null : mannWhitneyU(xb, xa, alternative)
    const good = a.better === "none" ? null : mannWhitneyU(xb, xa, alternative === "greater" ? "less" : "greater")
    return {
      row: {
        ...base,
        baseline: ma,
        candidate: median(xb),
        change,
        relativeChange: ma !== 0 ? change / Math.abs(ma) : null,
        n: Math.min(xa.length, xb.length),
        test
      },
      ...(good ? { goodP: good.pValue } : {})
    }
  }
  const seeds = [...a.bySeed.keys()].filter((s) => b.bySeed.has(s)).sort((x, y) => x - y)
  const va = mean([...a.bySeed.values()].map(mean))
  const vb = mean([...b.bySeed.values()].map(mean))
  const change = vb - va
  const common = { ...base, baseline: va, candidate: vb, change, relativeChange: va !== 0 ? change / Math.abs(va) : null, n: seeds.length }
  if (kind === "deterministic") {
    const identical =
      seeds.length > 0 &&
      seeds.length === a.bySeed.size &&
      seeds.length === b.bySeed.size &&
      seeds.every((s) => {
        const x = a.bySeed.get(s)!
        const y = b.bySeed.get(s)!
        return x.length === y.length && x.every((v, i) => Object.is(v, y[i]))
      })
    return { row: { ...common, test: null }, fixedVerdict: identical ? "unchanged" : "changed (deterministic)" }
  }
  if (a.better === "none") return { row: { ...common, test: null }, fixedVerdict: "not judged" }
  const diffs = seeds.map((s) => mean(b.bySeed.get(s)!) - mean(a.bySeed.get(s)!))
  if (diffs.length > 0 && diffs.every((d) => d === 0)) return { row: { ...common, test: null }, fixedVerdict: "unchanged" }
  let test = pairedBySeed(diffs, alternative)
  if (!test && seeds.length === 0 && a.bySeed.size >= 2 && b.bySeed.size >= 2) {
    // no common seeds: fall back to an unpaired comparison of the per-seed means
    test = welchTTest([...b.bySeed.values()].map(mean), [...a.bySeed.values()].map(mean), alternative)
  }
  const good = test ? pairedBySeed(diffs, alternative === "greater" ? "less" : "greater") : null
  return { row: { ...common, test }, ...(test ? {} : { fixedVerdict: "untested" as const }), ...(good ? { goodP: good.pValue } : {}) }
}

/**
 * A metric's threshold: its own entry, else its family's: `perplexity@yarn` falls back to `perplexity` (the same
 * metric under an extension), `time_ms.rope` to `time_ms` (one benchmark metric per method).
 */
export const thresholdFor = (thresholds: Readonly<Record<string, Threshold>> | undefined, name: string): Threshold | undefined => {
  if (!thresholds) return undefined
  if (thresholds[name]) return thresholds[name]
  const base = name.split("@")[0]!
  if (thresholds[base]) return thresholds[base]
  const family = base.split(".")[0]!
  return thresholds[family]
}

export const checkRegressions = (baseline: Side, candidate: Side, options: CheckOptions = {}): CheckResult => {
  const alpha = options.alpha ?? 0.05
  const defaultThreshold = options.defaultThreshold ?? { relative: 0.05 }
  const cellsA = groupCells(baseline)
  const cellsB = groupCells(candidate)
  const pending: Pending[] = []
  for (const [name, a] of [...cellsA].sort((x, y) => x[0].localeCompare(y[0]))) {
    const b = cellsB.get(name)
    for (const [id, series] of [...a.metrics].sort((x, y) => compareMetricKeys(x[1].key, y[1].key))) {
      const threshold = thresholdFor(options.thresholds, series.key.name) ?? defaultThreshold
      pending.push(judgeSeries(name, series, b?.metrics.get(id), threshold))
    }
  }
  // Holm across every row that was tested (metrics x lengths x cells)
  const tested = pending.filter((p) => p.fixedVerdict === undefined && p.row.test !== null)
  const adjusted = holmAdjust(tested.map((p) => p.row.test!.pValue))
  const pAdj = new Map(tested.map((p, i) => [p, adjusted[i]] as const))

  const rows: CheckRow[] = pending.map((p) => {
    const pAdjusted = pAdj.get(p) ?? null
    if (p.fixedVerdict !== undefined) {
      if (p.fixedVerdict === "changed (deterministic)") {
        const { change, baseline: base, better } = p.row
        const worse = change !== null && (better === "lower" ? change > 0 : better === "higher" ? change < 0 : false)
        const regression = worse && change !== null && base !== null && beyond(change, base, p.row.threshold)
        return { ...p.row, pAdjusted, verdict: regression ? "regression" : p.fixedVerdict, regression }
      }
      return { ...p.row, pAdjusted, verdict: p.fixedVerdict, regression: false }
    }
    const { change, baseline: base, better } = p.row
    if (better === "none" || change === null || base === null || pAdjusted === null) {
      return { ...p.row, pAdjusted, verdict: better === "none" ? "not judged" : "untested", regression: false }
    }
    const worse = better === "lower" ? change > 0 : change < 0
    const isBeyond = beyond(change, base, p.row.threshold)
    const significant = pAdjusted <= alpha
    if (change === 0) return { ...p.row, pAdjusted, verdict: "unchanged", regression: false }
    if (worse && isBeyond && significant) return { ...p.row, pAdjusted, verdict: "regression", regression: true }
    if (worse && isBeyond) return { ...p.row, pAdjusted, verdict: "not significant", regression: false }
    // an improvement, like a regression, must be significant: the same test in the good direction decides
    if (!worse && isBeyond)
      return { ...p.row, pAdjusted, verdict: (p.goodP ?? 1) <= alpha ? "improvement" : "not significant", regression: false }
    return { ...p.row, pAdjusted, verdict: "within threshold", regression: false }
  })
  const regressions = rows.filter((r) => r.regression)
  return { baseline: baseline.label, candidate: candidate.label, alpha, rows, regressions, exitCode: regressions.length > 0 ? 1 : 0 }
}

/** A fixed-width table, regressions first, then a one-line summary. */
export const renderCheck = (result: CheckResult, options: { all?: boolean } = {}): string => {
  const shown = shownRows(result, options.all ?? false)
  const lines = [`check: candidate ${result.candidate} against baseline ${result.baseline} (Holm, alpha ${result.alpha})`]
  if (shown.length > 0) {
    lines.push(
      "",
      renderFixedWidth(
        ["verdict", "cell", "metric", "length", "baseline", "candidate", "change", "rel", "threshold", "n", "p (Holm)", "test"],
        shown.map((r) => [
          r.regression ? `! ${r.verdict}` : r.verdict,
          r.cell,
          r.metric,
          r.length === null ? "-" : String(r.length),
          ...comparisonCells(r)
        ]),
        [0, 1, 2, 11]
      )
    )
  }
  const n = result.regressions.length
  lines.push(
    "",
    n > 0
      ? `REGRESSION: ${n} of ${result.rows.length} comparisons regressed (exit 1)`
      : `ok: no regression in ${result.rows.length} comparisons (exit 0)`
  )
  return lines.join("\n")
}
