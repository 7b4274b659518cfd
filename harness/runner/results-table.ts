/**
 * The table a run ends with: one row per (embedding, scale), perplexity at each evaluation length
 * (mean over seeds, with the spread when there are several), then the throughput that produced it.
 * A suite that trains on synthetic tasks records no perplexity; its table shows each length's answer
 * accuracy averaged over the suite's tasks instead (each task weighted once: flip-flop's sparse and dense
 * variants are in the ledger and the report, not in this mean).
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
  const tasks = [...new Set(jobs.flatMap((j) => j.config.data.synthetic ?? []))]
  const rows: string[][] = []
  let anyPerplexity = false
  const collected: Array<{ readonly first: Job; readonly seeds: string; readonly pick: (name: string, length?: number) => number[] }> = []
  for (const group of groups.values()) {
    const perSeed: Array<ReadonlyArray<MetricRow>> = []
    for (const j of group) {
      const found = yield* findDone(j.key)
      if (found) perSeed.push(found.metrics)
    }
    const pick = (name: string, length?: number) =>
      perSeed.flatMap((ms) => ms.filter((m) => m.name === name && (length === undefined || m.length === length)).map((m) => m.value))
    anyPerplexity ||= pick("perplexity").length > 0
    collected.push({ first: group[0]!, seeds: `${perSeed.length}/${group.length}`, pick })
  }
  const showAccuracy = !anyPerplexity && tasks.length > 0
  // per seed, the mean over tasks at one length; a seed missing a task's value is left out of that length
  const meanAccuracy = (pick: (name: string, length?: number) => number[], L: number): number[] => {
    const perTask = tasks.map((t) => pick(`accuracy.${t}`, L))
    const seeds = Math.min(...perTask.map((v) => v.length))
    return Array.from({ length: seeds }, (_, s) => perTask.reduce((sum, v) => sum + v[s]!, 0) / tasks.length)
  }
  for (const { first, seeds, pick } of collected) {
    rows.push([
      first.cell.embedding,
      first.cell.scale,
      seeds,
      ...lengths.map((L) => meanSd(showAccuracy ? meanAccuracy(pick, L) : pick("perplexity", L))),
      meanSd(pick("train_tokens_per_s"))
    ])
  }
  const trainLength = jobs[0]!.config.model.trainLength
  const column = showAccuracy ? "acc" : "ppl"
  const table = renderTable(
    [
      "embedding",
      "scale",
      "seeds",
      ...lengths.map((L) => `${column}@${L}${L === trainLength ? "" : ` (${L / trainLength}x)`}`),
      "train tok/s"
    ],
    rows
  )
  return showAccuracy
    ? `${table}\nacc@L: answer accuracy at length L, the mean over ${tasks.length} synthetic task(s): ${tasks.join(", ")}`
    : table
})
