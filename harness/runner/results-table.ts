/**
 * The table a run ends with: one row per (embedding, scale), perplexity at each evaluation length
 * (mean over seeds, with the spread when there are several), then the throughput that produced it.
 */
import { Effect } from "effect"
import type { Job } from "../plan/job.js"
import { formatNumber, renderTable } from "../table.js"
import type { MetricRow } from "../../ledger/types.js"
import { findDone } from "./job-records.js"

const meanSd = (xs: ReadonlyArray<number>): string => {
  if (xs.length === 0) return "-"
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  if (xs.length === 1) return formatNumber(mean)
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1))
  return `${formatNumber(mean)}±${formatNumber(sd)}`
}

export const resultsTable = Effect.fn("resultsTable")(function* (jobs: ReadonlyArray<Job>) {
  if (jobs.length === 0) return "(no jobs)"
  const lengths = [...new Set(jobs.flatMap((j) => j.config.evaluation.lengths))].sort((a, b) => a - b)
  const groups = new Map<string, Job[]>()
  for (const j of jobs) {
    const g = `${j.cell.embedding}\u0000${j.cell.scale}`
    groups.set(g, [...(groups.get(g) ?? []), j])
  }
  const rows: string[][] = []
  for (const group of groups.values()) {
    const perSeed: Array<ReadonlyArray<MetricRow>> = []
    for (const j of group) {
      const found = yield* findDone(j.key)
      if (found) perSeed.push(found.metrics)
    }
    const pick = (name: string, length?: number) =>
      perSeed.flatMap((ms) => ms.filter((m) => m.name === name && (length === undefined || m.length === length)).map((m) => m.value))
    const first = group[0]!
    rows.push([
      first.cell.embedding,
      first.cell.scale,
      `${perSeed.length}/${group.length}`,
      ...lengths.map((L) => meanSd(pick("perplexity", L))),
      meanSd(pick("train_tokens_per_s"))
    ])
  }
  const trainLength = jobs[0]!.config.model.trainLength
  return renderTable(
    ["embedding", "scale", "seeds", ...lengths.map((L) => `ppl@${L}${L === trainLength ? "" : ` (${L / trainLength}x)`}`), "train tok/s"],
    rows
  )
})
