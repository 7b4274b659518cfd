/**
 * Perplexity by evaluation length: the paper's central comparison (FoPE, Hua et al. 2024, Fig. 3 style).
 * A table (mean ± sd over seeds) and a plot with a log y axis (perplexity explodes past the training length for
 * some embeddings) against a log2 x axis (the lengths double).
 */
import { renderLineChart } from "../line-chart.js"
import { parseMetricName } from "../metric-names.js"
import { markdownTable } from "../markdown-table.js"
import type { ReportMetric } from "../types.js"
import { emptySection, type ReportContext, type Section } from "./context.js"
import { bandPoints, lengthsOf, lengthTableCells, summariesByLength } from "./length-table.js"
import { BAND_NOTE, figure, TRAIN_NOTE, trainLengthLines } from "./plot-helpers.js"

export const PERPLEXITY_PLOT = "perplexity-by-length.svg"

const isPlainPerplexity = (m: ReportMetric): boolean => {
  const p = parseMetricName(m.name)
  return p.kind === "perplexity" && p.extension === null
}

export const perplexitySection = (ctx: ReportContext): Section => {
  const lengths = lengthsOf(ctx.series, isPlainPerplexity)
  if (lengths.length === 0) return emptySection
  const table = lengthTableCells(
    ctx.series.map((s) => ({ label: s.label, series: s, accept: isPlainPerplexity })),
    lengths,
    ctx.trainLength
  )
  const svg = renderLineChart({
    title: `Perplexity by evaluation length: ${ctx.input.suite}`,
    description:
      "Validation perplexity (log scale) against evaluation length (log2 scale), one line per embedding: the mean over seeds, " +
      "with a shaded band from the minimum to the maximum over seeds. The dashed vertical line marks the training length.",
    xTitle: "evaluation length (tokens, log2 scale)",
    yTitle: "perplexity (log scale)",
    xScale: "log2",
    yScale: "log10",
    xTicks: lengths,
    verticalLines: trainLengthLines(ctx.series),
    notes: [BAND_NOTE, TRAIN_NOTE],
    series: ctx.series.map((s) => ({
      id: s.id,
      label: s.label,
      color: s.color,
      marker: s.marker,
      points: bandPoints(summariesByLength(s, isPlainPerplexity))
    }))
  })
  const markdown = [
    "## Perplexity by evaluation length",
    "",
    "Validation perplexity, mean ± sample standard deviation over seeds (n = seeds in the cell). " +
      '"-" = not measured, or the length does not apply to that embedding.',
    "",
    markdownTable(table.header, table.rows),
    "",
    figure(
      PERPLEXITY_PLOT,
      "Perplexity against evaluation length",
      `${PERPLEXITY_PLOT}: perplexity (log y) against evaluation length (log2 x), mean over seeds with the min..max band; dashed line = training length.`
    )
  ].join("\n")
  return { markdown, files: [{ name: PERPLEXITY_PLOT, content: svg }] }
}
