/** Passkey retrieval accuracy by evaluation length (Mohtashami & Jaggi 2023): a table and a plot. */
import { renderLineChart } from "../line-chart.js"
import { markdownTable } from "../markdown-table.js"
import type { ReportMetric } from "../types.js"
import { emptySection, type ReportContext, type Section } from "./context.js"
import { bandPoints, lengthsOf, lengthTableCells, summariesByLength } from "./length-table.js"
import { BAND_NOTE, figure, TRAIN_NOTE, trainLengthLines } from "./plot-helpers.js"

export const PASSKEY_PLOT = "passkey-accuracy.svg"

const isPasskey = (m: ReportMetric): boolean => m.name === "passkey_accuracy"

export const passkeySection = (ctx: ReportContext): Section => {
  const lengths = lengthsOf(ctx.series, isPasskey)
  if (lengths.length === 0) return emptySection
  const table = lengthTableCells(
    ctx.series.map((s) => ({ label: s.label, series: s, accept: isPasskey })),
    lengths,
    ctx.trainLength
  )
  const svg = renderLineChart({
    title: `Passkey retrieval accuracy: ${ctx.input.suite}`,
    description:
      "Fraction of passkey trials answered correctly against evaluation length (log2 scale), one line per embedding: the mean " +
      "over seeds with a min..max band. The dashed vertical line marks the training length.",
    xTitle: "evaluation length (tokens, log2 scale)",
    yTitle: "passkey accuracy",
    xScale: "log2",
    yScale: "linear",
    yDomain: [0, 1],
    xTicks: lengths,
    verticalLines: trainLengthLines(ctx.series),
    notes: [BAND_NOTE, TRAIN_NOTE],
    series: ctx.series.map((s) => ({
      id: s.id,
      label: s.label,
      color: s.color,
      marker: s.marker,
      points: bandPoints(summariesByLength(s, isPasskey))
    }))
  })
  const markdown = [
    "## Passkey retrieval",
    "",
    "Accuracy (fraction of trials), mean ± sd over seeds (n = seeds in the cell).",
    "",
    markdownTable(table.header, table.rows),
    "",
    figure(
      PASSKEY_PLOT,
      "Passkey accuracy against evaluation length",
      `${PASSKEY_PLOT}: passkey accuracy (0..1) against evaluation length (log2 x), mean over seeds with the min..max band; dashed line = training length.`
    )
  ].join("\n")
  return { markdown, files: [{ name: PASSKEY_PLOT, content: svg }] }
}
