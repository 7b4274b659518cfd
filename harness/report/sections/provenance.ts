/**
 * The appendix that makes every number traceable: each job with its key and ledger record hash (12 hex digits
 * each, enough to find it with `harness` ledger commands), and each job's own perplexity values, so a table mean
 * can be recomputed from the records it came from.
 */
import { formatSignificant, MISSING } from "../format-number.js"
import { parseMetricName } from "../metric-names.js"
import { markdownTable } from "../markdown-table.js"
import type { ReportJob } from "../types.js"
import type { ReportContext, Section } from "./context.js"
import { lengthHeader } from "./length-table.js"

export const hashPrefix = (hash: string): string => hash.slice(0, 12)

const perplexityAt = (job: ReportJob, length: number): string => {
  const m = job.metrics.find((x) => {
    const p = parseMetricName(x.name)
    return p.kind === "perplexity" && p.extension === null && x.length === length
  })
  return m ? formatSignificant(m.value) : MISSING
}

export const provenanceSection = (ctx: ReportContext): Section => {
  const jobs = ctx.series.flatMap((s) => s.allJobs)
  const header = ["job", "status", "embedding", "scale", "seed", "train length", "backend", "key", "record hash"]
  const rows = jobs.map((j) => [
    j.name,
    j.status,
    j.cell.embedding,
    j.cell.scale,
    String(j.cell.seed),
    String(j.trainLength),
    j.backend,
    hashPrefix(j.key),
    hashPrefix(j.recordHash)
  ])
  const parts = [
    "## Appendix: Provenance",
    "",
    "Every job of the suite in the ledger, with the first 12 hex digits of its job key and of its ledger record hash. " +
      "Only jobs with status `done` contribute to the tables and plots above.",
    "",
    markdownTable(header, rows, ["left", "left", "left", "left", "right", "right", "left", "left", "left"])
  ]
  const lengths = [
    ...new Set(
      jobs.flatMap((j) => j.metrics.filter((m) => m.name === "perplexity" && typeof m.length === "number").map((m) => m.length as number))
    )
  ].sort((a, b) => a - b)
  const done = jobs.filter((j) => j.status === "done")
  if (lengths.length > 0 && done.length > 0) {
    parts.push(
      "",
      "### Per-job perplexity",
      "",
      "The values the perplexity table aggregates, one row per job.",
      "",
      markdownTable(
        ["job", "record hash", ...lengths.map((l) => lengthHeader(l, ctx.trainLength))],
        done.map((j) => [j.name, hashPrefix(j.recordHash), ...lengths.map((l) => perplexityAt(j, l))]),
        ["left", "left", ...lengths.map(() => "right" as const)]
      )
    )
  }
  return { markdown: parts.join("\n"), files: [] }
}
