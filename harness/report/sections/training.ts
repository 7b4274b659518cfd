/** Training: a table of the final training loss and throughput, and the training-loss curve (train_loss by step). */
import { formatSummary } from "../format-number.js"
import { renderLineChart } from "../line-chart.js"
import { markdownTable } from "../markdown-table.js"
import { scalarSummary, summaryByX, type Series } from "../series.js"
import { summarize } from "../stats.js"
import type { ReportJob } from "../types.js"
import { emptySection, type ReportContext, type Section } from "./context.js"
import { bandPoints } from "./length-table.js"
import { BAND_NOTE, figure } from "./plot-helpers.js"

export const TRAINING_PLOT = "training-loss.svg"

/** The training loss a job recorded at its last step. */
const finalTrainLoss = (job: ReportJob): number | null => {
  let best: { step: number; value: number } | null = null
  for (const m of job.metrics)
    if (m.name === "train_loss" && typeof m.step === "number" && (best === null || m.step > best.step))
      best = { step: m.step, value: m.value }
  return best?.value ?? null
}

const finalLossSummary = (s: Series) => summarize(s.jobs.map(finalTrainLoss).filter((v): v is number => v !== null))

const SCALARS: ReadonlyArray<readonly [string, string]> = [
  ["train_tokens_per_s", "tokens/s"],
  ["train_seconds", "train s"],
  ["eval_seconds", "eval s"]
]

export const trainingSection = (ctx: ReportContext): Section => {
  const anyCurve = ctx.series.some((s) => s.jobs.some((j) => j.metrics.some((m) => m.name === "train_loss")))
  const presentScalars = SCALARS.filter(([name]) => ctx.series.some((s) => scalarSummary(s.jobs, name) !== null))
  if (!anyCurve && presentScalars.length === 0) return emptySection
  const header = ["embedding", "seeds", ...(anyCurve ? ["final train loss"] : []), ...presentScalars.map(([, title]) => title)]
  const rows = ctx.series.map((s) => [
    s.label,
    String(s.jobs.length),
    ...(anyCurve ? [formatSummary(finalLossSummary(s))] : []),
    ...presentScalars.map(([name]) => formatSummary(scalarSummary(s.jobs, name)))
  ])
  const parts = [
    "## Training",
    "",
    "Final training loss (at each job's last logged step) and throughput, mean ± sd over seeds (n = seeds in the cell).",
    "",
    markdownTable(header, rows)
  ]
  const files = []
  if (anyCurve) {
    const svg = renderLineChart({
      title: `Training loss: ${ctx.input.suite}`,
      description:
        "Training loss (nats) against optimizer step, one line per embedding: the mean over seeds at each logged step, with a min..max band.",
      xTitle: "training step",
      yTitle: "training loss (nats)",
      xScale: "linear",
      yScale: "linear",
      markers: "sparse",
      notes: [BAND_NOTE],
      series: ctx.series.map((s) => ({
        id: s.id,
        label: s.label,
        color: s.color,
        marker: s.marker,
        points: bandPoints(
          summaryByX(
            s.jobs,
            (m) => m.name === "train_loss",
            (m) => m.step
          )
        )
      }))
    })
    files.push({ name: TRAINING_PLOT, content: svg })
    parts.push(
      "",
      figure(
        TRAINING_PLOT,
        "Training loss against step",
        `${TRAINING_PLOT}: training loss against step, mean over seeds with the min..max band.`
      )
    )
  }
  return { markdown: parts.join("\n"), files }
}
