/**
 * A series is one row of a report table and one line of a plot: an embedding (and a scale, when the suite has
 * several), aggregated over seeds. Series keep the order in which the suite listed them, and each gets one colour
 * and marker used in every plot, so a reader matches lines across figures.
 */
import type { ReportJob, ReportMetric } from "./types.js"
import { colorAt, markerAt, type MarkerShape } from "./palette.js"
import { summarize, type Summary } from "./stats.js"

export interface Series {
  readonly id: string
  readonly label: string
  readonly embedding: string
  readonly scale: string
  readonly color: string
  readonly marker: MarkerShape
  /** every job of the series, whatever its status */
  readonly allJobs: ReadonlyArray<ReportJob>
  /** the jobs whose numbers the report shows: status "done" */
  readonly jobs: ReadonlyArray<ReportJob>
  /** distinct training lengths of its jobs, ascending (one, normally) */
  readonly trainLengths: ReadonlyArray<number>
}

export const groupSeries = (jobs: ReadonlyArray<ReportJob>): ReadonlyArray<Series> => {
  const manyScales = new Set(jobs.map((j) => j.cell.scale)).size > 1
  const byId = new Map<string, ReportJob[]>()
  for (const job of jobs) {
    const id = JSON.stringify([job.cell.embedding, job.cell.scale]) // unique, and printable (an SVG attribute)
    const list = byId.get(id)
    if (list) list.push(job)
    else byId.set(id, [job])
  }
  return [...byId.entries()].map(([id, members], i) => {
    const { embedding, scale } = members[0]!.cell
    return {
      id,
      label: manyScales ? `${embedding} × ${scale}` : embedding,
      embedding,
      scale,
      color: colorAt(i),
      marker: markerAt(i),
      allJobs: members,
      jobs: members.filter((j) => j.status === "done"),
      trainLengths: [...new Set(members.map((j) => j.trainLength))].sort((a, b) => a - b)
    }
  })
}

/**
 * The values of the metrics `accept` picks, per x (`xOf`: the evaluation length, the step, a bucket start), one
 * value per job: a job that recorded the same metric twice at one x contributes its first record. Non-finite x
 * are dropped.
 */
export const valuesByX = (
  jobs: ReadonlyArray<ReportJob>,
  accept: (m: ReportMetric) => boolean,
  xOf: (m: ReportMetric) => number | null | undefined
): Map<number, number[]> => {
  const out = new Map<number, number[]>()
  for (const job of jobs) {
    const seen = new Set<number>()
    for (const m of job.metrics) {
      if (!accept(m)) continue
      const x = xOf(m)
      if (x === null || x === undefined || !Number.isFinite(x) || seen.has(x)) continue
      seen.add(x)
      const list = out.get(x)
      if (list) list.push(m.value)
      else out.set(x, [m.value])
    }
  }
  return new Map([...out.entries()].sort((a, b) => a[0] - b[0]))
}

/** `valuesByX` summarized: x ascending with mean, sd, min, max and n per x. */
export const summaryByX = (
  jobs: ReadonlyArray<ReportJob>,
  accept: (m: ReportMetric) => boolean,
  xOf: (m: ReportMetric) => number | null | undefined
): Map<number, Summary> => {
  const out = new Map<number, Summary>()
  for (const [x, values] of valuesByX(jobs, accept, xOf)) {
    const s = summarize(values)
    if (s) out.set(x, s)
  }
  return out
}

/** A scalar metric with no length or step (train_seconds, ...), one value per job. */
export const scalarSummary = (jobs: ReadonlyArray<ReportJob>, name: string): Summary | null =>
  summaryByX(
    jobs,
    (m) => m.name === name,
    () => 0
  ).get(0) ?? null
