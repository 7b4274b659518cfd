/**
 * Inference-time extensions of rotary embeddings (PI: Chen et al. 2023; NTK-aware scaling; dynamic NTK;
 * YaRN: Peng et al. 2023): one table per extension, each embedding extended next to the same embedding
 * without extension, and one plot of every embedding x extension pair (colour = embedding, dash = extension).
 */
import { renderLineChart, type ChartSeries } from "../line-chart.js"
import { parseMetricName } from "../metric-names.js"
import { markdownTable } from "../markdown-table.js"
import { dashAt } from "../palette.js"
import type { Series } from "../series.js"
import type { ReportMetric } from "../types.js"
import { emptySection, type ReportContext, type Section } from "./context.js"
import { bandPoints, lengthsOf, lengthTableCells, summariesByLength, type LengthRow } from "./length-table.js"
import { BAND_NOTE, figure, TRAIN_NOTE, trainLengthLines } from "./plot-helpers.js"

export const EXTENSIONS_PLOT = "perplexity-extensions.svg"

const perplexityWith =
  (extension: string | null) =>
  (m: ReportMetric): boolean => {
    const p = parseMetricName(m.name)
    return p.kind === "perplexity" && p.extension === extension
  }

const extensionsOf = (series: ReadonlyArray<Series>): string[] => {
  const found: string[] = []
  for (const s of series)
    for (const j of s.jobs)
      for (const m of j.metrics) {
        const p = parseMetricName(m.name)
        if (p.kind === "perplexity" && p.extension !== null && !found.includes(p.extension)) found.push(p.extension)
      }
  return found
}

const hasMetric = (s: Series, accept: (m: ReportMetric) => boolean): boolean => s.jobs.some((j) => j.metrics.some(accept))

export const extensionsSection = (ctx: ReportContext): Section => {
  const extensions = extensionsOf(ctx.series)
  if (extensions.length === 0) return emptySection
  const extended = ctx.series.filter((s) => extensions.some((e) => hasMetric(s, perplexityWith(e))))
  const parts = [
    "## Inference-time extensions",
    "",
    "Perplexity of each embedding extended at evaluation time, next to the same embedding without extension; mean ± sd over seeds (n = seeds in the cell)."
  ]
  for (const extension of extensions) {
    const rows: LengthRow[] = ctx.series
      .filter((s) => hasMetric(s, perplexityWith(extension)))
      .flatMap((s) => [
        { label: `${s.label} + ${extension}`, series: s, accept: perplexityWith(extension) },
        { label: `${s.label} (no extension)`, series: s, accept: perplexityWith(null) }
      ])
    const lengths = lengthsOf(extended, (m) => perplexityWith(extension)(m) || perplexityWith(null)(m))
    const table = lengthTableCells(rows, lengths, ctx.trainLength)
    parts.push("", `### ${extension}`, "", markdownTable(table.header, table.rows))
  }
  const chartSeries: ChartSeries[] = extended.flatMap((s) =>
    [null, ...extensions]
      .filter((e) => hasMetric(s, perplexityWith(e)))
      .map((e) => ({
        id: `${s.id}@${e ?? "none"}`,
        label: `${s.label} ${e === null ? "(none)" : `+ ${e}`}`,
        color: s.color,
        marker: s.marker,
        dash: dashAt(e === null ? 0 : extensions.indexOf(e) + 1),
        points: bandPoints(summariesByLength(s, perplexityWith(e)))
      }))
  )
  const lengths = lengthsOf(extended, (m) => parseMetricName(m.name).kind === "perplexity")
  const svg = renderLineChart({
    title: `Perplexity with inference-time extensions: ${ctx.input.suite}`,
    description:
      "Validation perplexity (log scale) against evaluation length (log2 scale) for each embedding with and without each " +
      "inference-time extension: colour = embedding, dash pattern = extension (solid = none). Mean over seeds with a min..max band.",
    xTitle: "evaluation length (tokens, log2 scale)",
    yTitle: "perplexity (log scale)",
    xScale: "log2",
    yScale: "log10",
    xTicks: lengths,
    verticalLines: trainLengthLines(ctx.series),
    notes: ["Colour: embedding; dash: extension (solid = none).", BAND_NOTE, TRAIN_NOTE],
    series: chartSeries
  })
  parts.push(
    "",
    figure(
      EXTENSIONS_PLOT,
      "Perplexity with inference-time extensions",
      `${EXTENSIONS_PLOT}: perplexity (log y) against evaluation length (log2 x) per embedding and extension; colour = embedding, dash = extension.`
    )
  )
  return { markdown: parts.join("\n"), files: [{ name: EXTENSIONS_PLOT, content: svg }] }
}
