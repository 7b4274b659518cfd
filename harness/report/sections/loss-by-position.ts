/**
 * Loss by position: the mean loss of each position bucket of a long evaluation window (`loss_at_position_<from>`,
 * measured at evaluation length `length`). Where a curve bends upward past the training length is where an
 * embedding stops generalizing. One plot per evaluation length the curves were measured at (normally one).
 */
import { renderLineChart } from "../line-chart.js"
import { parseMetricName } from "../metric-names.js"
import { valuesByX, type Series } from "../series.js"
import { summarize } from "../stats.js"
import type { ReportFile, ReportMetric } from "../types.js"
import { emptySection, type ReportContext, type Section } from "./context.js"
import { BAND_NOTE, figure, TRAIN_NOTE, trainLengthLines } from "./plot-helpers.js"

export const lossByPositionPlot = (length: number): string => `loss-by-position-${length}.svg`

const bucketStart = (m: ReportMetric): number | null => {
  const p = parseMetricName(m.name)
  return p.kind === "loss_at_position" ? p.from : null
}

/** Buckets are plotted at their midpoints: bucket i spans [from_i, from_{i+1}), the last one ends at the length. */
const curvePoints = (s: Series, length: number) => {
  const byFrom = valuesByX(s.jobs, (m) => m.length === length && bucketStart(m) !== null, bucketStart)
  const froms = [...byFrom.keys()]
  return froms.flatMap((from, i) => {
    const stats = summarize(byFrom.get(from)!)
    if (!stats) return []
    const to = froms[i + 1] ?? length
    return [{ x: (from + to) / 2, y: stats.mean, lo: stats.min, hi: stats.max }]
  })
}

export const lossByPositionSection = (ctx: ReportContext): Section => {
  const lengths = new Set<number>()
  for (const s of ctx.series)
    for (const j of s.jobs) for (const m of j.metrics) if (bucketStart(m) !== null && typeof m.length === "number") lengths.add(m.length)
  if (lengths.size === 0) return emptySection
  const files: ReportFile[] = []
  const parts = [
    "## Loss by position",
    "",
    "Mean loss of each position bucket within one evaluation window; curves that rise past the training length mark where an embedding stops generalizing."
  ]
  for (const length of [...lengths].sort((a, b) => a - b)) {
    const name = lossByPositionPlot(length)
    files.push({
      name,
      content: renderLineChart({
        title: `Loss by position at evaluation length ${length}: ${ctx.input.suite}`,
        description:
          `Mean validation loss (nats) of each position bucket in windows of ${length} tokens, plotted at the bucket midpoints, one line ` +
          "per embedding: the mean over seeds with a min..max band. The dashed vertical line marks the training length.",
        xTitle: "position in the window (tokens, bucket midpoints)",
        yTitle: "loss (nats)",
        xScale: "linear",
        yScale: "linear",
        xDomain: [0, length],
        verticalLines: trainLengthLines(ctx.series),
        notes: [BAND_NOTE, TRAIN_NOTE],
        series: ctx.series.map((s) => ({ id: s.id, label: s.label, color: s.color, marker: s.marker, points: curvePoints(s, length) }))
      })
    })
    parts.push(
      "",
      figure(
        name,
        `Loss by position at length ${length}`,
        `${name}: loss (nats) against position in a ${length}-token window, mean over seeds with the min..max band; dashed line = training length.`
      )
    )
  }
  return { markdown: parts.join("\n"), files }
}
