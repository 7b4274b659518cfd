/** The report's opening: what suite, from which ledger (path and head hash), on which backend(s), how many jobs. */
import { escapeMarkdownText, markdownCode } from "../escape.js"
import type { ReportContext } from "./context.js"

const countBy = <T>(items: ReadonlyArray<T>, key: (t: T) => string): Array<[string, number]> => {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return [...counts.entries()]
}

export const headerMarkdown = (ctx: ReportContext): string => {
  const { input } = ctx
  const jobs = input.jobs
  const statuses = countBy(jobs, (j) => j.status)
    .map(([status, count]) => `${count} ${status}`)
    .join(", ")
  const backends = countBy(jobs, (j) => j.backend)
    .map(([backend, count]) => `${escapeMarkdownText(backend)} (${count} job${count === 1 ? "" : "s"})`)
    .join("; ")
  const trainLengths = [...new Set(jobs.map((j) => j.trainLength))].sort((a, b) => a - b).join(", ")
  const lines = [
    `# Report: ${escapeMarkdownText(input.suite)}`,
    "",
    ...(input.description.trim().length > 0 ? [escapeMarkdownText(input.description.trim()), ""] : []),
    `- **Suite:** ${markdownCode(input.suite)}`,
    `- **Generated:** ${escapeMarkdownText(input.generatedAt)}`,
    `- **Ledger:** ${markdownCode(input.ledgerPath)}, head record hash ${markdownCode(input.ledgerHeadHash)}`,
    `- **Backend${countBy(jobs, (j) => j.backend).length === 1 ? "" : "s"}:** ${backends || "-"}`,
    `- **Jobs:** ${jobs.length} (${statuses || "none"})${jobs.some((j) => j.status !== "done") ? "; only `done` jobs are aggregated, all are listed under Provenance" : ""}`,
    ...(trainLengths ? [`- **Training length:** ${trainLengths}`] : []),
    "",
    "Table cells are mean ± sample standard deviation over seeds, with n = the number of jobs (seeds) the cell aggregates; " +
      'a cell from a single job shows its value alone; "-" means not measured or not applicable. ' +
      "Each job's ledger record hash is in the appendix, so every number traces back to its record."
  ]
  return lines.join("\n")
}
