/**
 * The shape shared by the perplexity, passkey and extension tables: one row per series, one column per
 * evaluation length, each cell "mean ± sd (n=k)" over the seeds that measured it, "-" where none did (not
 * measured, or the length does not apply to that embedding).
 */
import { formatSummary } from "../format-number.js"
import { summaryByX, type Series } from "../series.js"
import type { Summary } from "../stats.js"
import type { ReportMetric } from "../types.js"

/** "256 (train)", "1024 (4x)", "128 (0.5x)": the ratio to the training length tells extrapolation at a glance. */
export const lengthHeader = (length: number, trainLength: number | null): string => {
  if (trainLength === null || !(trainLength > 0)) return String(length)
  if (length === trainLength) return `${length} (train)`
  return `${length} (${formatRatio(length / trainLength)}x)`
}

const formatRatio = (r: number): string => String(Number(r.toPrecision(3)))

export const summariesByLength = (series: Series, accept: (m: ReportMetric) => boolean): Map<number, Summary> =>
  summaryByX(series.jobs, accept, (m) => m.length)

/** The evaluation lengths, ascending, at which any done job of any series recorded an accepted metric. */
export const lengthsOf = (series: ReadonlyArray<Series>, accept: (m: ReportMetric) => boolean): number[] => {
  const lengths = new Set<number>()
  for (const s of series)
    for (const j of s.jobs) for (const m of j.metrics) if (accept(m) && typeof m.length === "number") lengths.add(m.length)
  return [...lengths].sort((a, b) => a - b)
}

export interface LengthRow {
  readonly label: string
  readonly series: Series
  readonly accept: (m: ReportMetric) => boolean
}

/** Header and rows: label, train length, seeds (done jobs), then one cell per length. */
export const lengthTableCells = (
  rows: ReadonlyArray<LengthRow>,
  lengths: ReadonlyArray<number>,
  trainLength: number | null
): { header: string[]; rows: string[][] } => ({
  header: ["embedding", "train length", "seeds", ...lengths.map((l) => lengthHeader(l, trainLength))],
  rows: rows.map((row) => {
    const byLength = summariesByLength(row.series, row.accept)
    return [
      row.label,
      row.series.trainLengths.join(", "),
      String(row.series.jobs.length),
      ...lengths.map((l) => formatSummary(byLength.get(l) ?? null))
    ]
  })
})

/** Plot points from summaries: the mean, with the min..max over seeds as the band. */
export const bandPoints = (byX: Map<number, Summary>): Array<{ x: number; y: number; lo: number; hi: number }> =>
  [...byX.entries()].map(([x, s]) => ({ x, y: s.mean, lo: s.min, hi: s.max }))
