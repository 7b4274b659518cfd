/**
 * Spectrum damage (FoPE, Hua et al. 2024, Sec. 3): how much of each attention head's frequency content is
 * damaged by the linear layers and the activation. A table of the summary and each layer, rotary embeddings only.
 */
import { formatSummary } from "../format-number.js"
import { parseMetricName } from "../metric-names.js"
import { markdownTable } from "../markdown-table.js"
import { scalarSummary } from "../series.js"
import { emptySection, type ReportContext, type Section } from "./context.js"

export const spectrumSection = (ctx: ReportContext): Section => {
  const layers = new Set<number>()
  let any = false
  for (const s of ctx.series)
    for (const j of s.jobs)
      for (const m of j.metrics) {
        const p = parseMetricName(m.name)
        if (p.kind !== "spectrum_damage") continue
        any = true
        if (p.layer !== null) layers.add(p.layer)
      }
  if (!any) return emptySection
  const layerList = [...layers].sort((a, b) => a - b)
  const header = ["embedding", "seeds", "spectrum damage", ...layerList.map((l) => `layer ${l}`)]
  const rows = ctx.series.map((s) => [
    s.label,
    String(s.jobs.length),
    formatSummary(scalarSummary(s.jobs, "spectrum_damage")),
    ...layerList.map((l) => formatSummary(scalarSummary(s.jobs, `spectrum_damage_layer${l}`)))
  ])
  return {
    markdown: [
      "## Spectrum damage",
      "",
      'Fraction of the frequency content damaged, overall and per layer (lower is better), mean ± sd over seeds (n = seeds in the cell); "-" for embeddings without a rotary spectrum.',
      "",
      markdownTable(header, rows)
    ].join("\n"),
    files: []
  }
}
