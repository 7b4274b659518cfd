/**
 * Per-seed statistics a claim compares: each reduces ONE job's metrics to one number, so two embeddings can be
 * compared paired by seed (same seed = same data order and evaluation windows; the pairing removes most of the
 * data noise that the seed spread otherwise adds to a difference).
 *
 * Lengths are read as multiples of the job's training length L, so a claim is stated once for any suite.
 * Perplexity is averaged in log space (a geometric mean): one 16x length that explodes must not swamp the rest,
 * and log-perplexity is the loss the model optimises.
 */
import type { ReportJob, ReportMetric } from "../types.js"

export type Statistic =
  /** mean over the evaluation lengths strictly beyond `fromMultiple` x L (of log value when `log`) */
  | { readonly kind: "beyond"; readonly metric: string; readonly fromMultiple: number; readonly log: boolean }
  /** the value at exactly `multiple` x L (its log when `log`) */
  | { readonly kind: "at"; readonly metric: string; readonly multiple: number; readonly log: boolean }
  /** how much worse beyond L than at L: mean log value beyond L minus log value at L */
  | { readonly kind: "degradation"; readonly metric: string }
  /** a metric measured once per job, whatever length it names (spectrum damage) */
  | { readonly kind: "scalar"; readonly metric: string }

const atLength = (job: ReportJob, metric: string, length: number): number | undefined =>
  job.metrics.find((m: ReportMetric) => m.name === metric && m.length === length)?.value

const lengthsOf = (job: ReportJob, metric: string): number[] =>
  [...new Set(job.metrics.filter((m) => m.name === metric && typeof m.length === "number").map((m) => m.length as number))].sort(
    (a, b) => a - b
  )

const meanOf = (xs: ReadonlyArray<number>): number => xs.reduce((s, x) => s + x, 0) / xs.length

/** The statistic for one job; null when the job did not record what it needs. */
export const statisticOf = (stat: Statistic, job: ReportJob): number | null => {
  const L = job.trainLength
  switch (stat.kind) {
    case "scalar": {
      // measured once per job (spectrum damage is recorded at the training length): the first record of that name
      const m = job.metrics.find((x) => x.name === stat.metric)
      return m ? m.value : null
    }
    case "at": {
      const v = atLength(job, stat.metric, stat.multiple * L)
      if (v === undefined) return null
      return stat.log ? Math.log(v) : v
    }
    case "beyond": {
      const lengths = lengthsOf(job, stat.metric).filter((l) => l > stat.fromMultiple * L)
      if (lengths.length === 0) return null
      const values = lengths.map((l) => atLength(job, stat.metric, l)!)
      return meanOf(stat.log ? values.map(Math.log) : values)
    }
    case "degradation": {
      const base = atLength(job, stat.metric, L)
      const beyond = statisticOf({ kind: "beyond", metric: stat.metric, fromMultiple: 1, log: true }, job)
      if (base === undefined || beyond === null) return null
      return beyond - Math.log(base)
    }
  }
}

/** How a statistic reads in a table header. */
export const describeStatistic = (stat: Statistic): string => {
  switch (stat.kind) {
    case "scalar":
      return stat.metric
    case "at":
      return `${stat.log ? "log " : ""}${stat.metric} at ${stat.multiple}x L`
    case "beyond":
      return `mean ${stat.log ? "log " : ""}${stat.metric} beyond ${stat.fromMultiple === 1 ? "L" : `${stat.fromMultiple}x L`}`
    case "degradation":
      return `log ${stat.metric} beyond L minus at L`
  }
}
