/**
 * Synthetic tasks by evaluation length (models/eval/synthetic-accuracy.ts): one plot of the answer accuracy
 * averaged over the tasks a job was evaluated on, then one table per task variant (flip-flop's sparse and dense
 * variants get their own tables but stay out of the mean, so each task weighs once, as in the run's closing table).
 *
 * accuracy.<variant> is the fraction of answer tokens predicted correctly under teacher forcing; exact.<variant>
 * (every answer token of an example correct) is in the ledger and the appendix, not repeated here.
 */
import { renderLineChart } from "../line-chart.js"
import { markdownCode } from "../escape.js"
import { markdownTable } from "../markdown-table.js"
import type { Series } from "../series.js"
import type { ReportJob, ReportMetric } from "../types.js"
import { emptySection, type ReportContext, type Section } from "./context.js"
import { bandPoints, lengthsOf, lengthTableCells, summariesByLength } from "./length-table.js"
import { BAND_NOTE, figure, TRAIN_NOTE, trainLengthLines } from "./plot-helpers.js"

export const SYNTHETIC_PLOT = "synthetic-accuracy.svg"
export const SYNTHETIC_MEAN = "synthetic_mean_accuracy"

const PREFIX = "accuracy."
/** Scored beside flip-flop (the other densities of its ignore instructions), not tasks of their own. */
const EXTRA_VARIANTS = new Set(["flip-flop-sparse", "flip-flop-dense"])

const variantOf = (m: ReportMetric): string | null => (m.name.startsWith(PREFIX) ? m.name.slice(PREFIX.length) : null)

/** A job's mean accuracy over its tasks at each length, as one extra metric per length (the plot's y). */
const withTaskMean = (job: ReportJob): ReportJob => {
  const byLength = new Map<number, number[]>()
  for (const m of job.metrics) {
    const variant = variantOf(m)
    if (variant === null || EXTRA_VARIANTS.has(variant) || typeof m.length !== "number") continue
    byLength.set(m.length, [...(byLength.get(m.length) ?? []), m.value])
  }
  const means: ReportMetric[] = [...byLength].map(([length, values]) => ({
    name: SYNTHETIC_MEAN,
    value: values.reduce((a, b) => a + b, 0) / values.length,
    unit: "fraction",
    better: "higher",
    length
  }))
  return { ...job, metrics: [...job.metrics, ...means] }
}

const isMean = (m: ReportMetric): boolean => m.name === SYNTHETIC_MEAN

export const syntheticSection = (ctx: ReportContext): Section => {
  const variants = [...new Set(ctx.series.flatMap((s) => s.jobs.flatMap((j) => j.metrics.map(variantOf))))]
    .filter((v): v is string => v !== null)
    .sort((a, b) => Number(EXTRA_VARIANTS.has(a)) - Number(EXTRA_VARIANTS.has(b)) || a.localeCompare(b))
  if (variants.length === 0) return emptySection
  const series: Series[] = ctx.series.map((s) => ({ ...s, jobs: s.jobs.map(withTaskMean) }))
  const lengths = lengthsOf(series, isMean)
  const tasks = variants.filter((v) => !EXTRA_VARIANTS.has(v))
  const svg = renderLineChart({
    title: `Synthetic tasks, mean answer accuracy: ${ctx.input.suite}`,
    description:
      `Answer accuracy averaged over ${tasks.length} task(s) (${tasks.join(", ")}) against evaluation length (log2 scale), one line ` +
      "per embedding and scale: the mean over seeds with a min..max band. The dashed vertical line marks the training length.",
    xTitle: "evaluation length (tokens, log2 scale)",
    yTitle: "mean answer accuracy",
    xScale: "log2",
    yScale: "linear",
    yDomain: [0, 1],
    xTicks: lengths,
    verticalLines: trainLengthLines(ctx.series),
    notes: [BAND_NOTE, TRAIN_NOTE],
    series: series.map((s) => ({
      id: s.id,
      label: s.label,
      color: s.color,
      marker: s.marker,
      points: bandPoints(summariesByLength(s, isMean))
    }))
  })
  const meanTable = lengthTableCells(
    series.map((s) => ({ label: s.label, series: s, accept: isMean })),
    lengths,
    ctx.trainLength
  )
  const taskTables = variants.flatMap((variant) => {
    const accept = (m: ReportMetric) => m.name === `${PREFIX}${variant}`
    const table = lengthTableCells(
      ctx.series.map((s) => ({ label: s.label, series: s, accept })),
      lengthsOf(ctx.series, accept),
      ctx.trainLength
    )
    const note = EXTRA_VARIANTS.has(variant) ? " (a flip-flop evaluation variant, not in the mean)" : ""
    return [`### ${markdownCode(variant)}${note}`, "", markdownTable(table.header, table.rows), ""]
  })
  const markdown = [
    "## Synthetic tasks",
    "",
    "Answer accuracy: the fraction of answer tokens the model predicts correctly (argmax, teacher forcing), mean ± sd over " +
      `seeds (n = seeds in the cell). First the mean over the ${tasks.length} task(s), then each task.`,
    "",
    markdownTable(meanTable.header, meanTable.rows),
    "",
    figure(
      SYNTHETIC_PLOT,
      "Mean synthetic-task accuracy against evaluation length",
      `${SYNTHETIC_PLOT}: answer accuracy averaged over the tasks (0..1) against evaluation length (log2 x), mean over seeds with the min..max band; dashed line = training length.`
    ),
    "",
    ...taskTables
  ].join("\n")
  return { markdown: markdown.trimEnd(), files: [{ name: SYNTHETIC_PLOT, content: svg }] }
}
