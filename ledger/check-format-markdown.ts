/**
 * `harness check --format markdown`: for a CI job summary ($GITHUB_STEP_SUMMARY) or a pull-request comment.
 * The verdict comes first (a heading a reviewer reads in the PR's checks list, then how many comparisons got
 * each verdict), then every changed cell: its rows, and the `job.done` records of both sides, so each number
 * in the comment can be traced to the ledger (`harness ledger export` lists the hashes).
 */
import type { CheckRow, Verdict } from "./check.js"
import { comparisonCells, metricLabel, shownRows, verdictCounts, type CheckReport, type JobRecord } from "./check-report.js"

/** GitHub renders these; a plain-text reader still sees the verdict word beside them. */
const MARK: Partial<Record<Verdict, string>> = {
  regression: "❌",
  "changed (deterministic)": "⚠️",
  "not significant": "⚠️",
  missing: "⚠️",
  improvement: "✅"
}

const verdictText = (v: Verdict): string => (MARK[v] ? `${MARK[v]} ${v}` : v)

/** A table cell: a pipe would end the cell, a newline the row. */
const escapeCell = (text: string): string => text.replaceAll("\\", "\\\\").replaceAll("|", "\\|").replace(/\r?\n/g, " ")

const code = (text: string): string => `\`${text.replaceAll("`", "'")}\``

const table = (header: ReadonlyArray<string>, align: ReadonlyArray<"l" | "r">, rows: ReadonlyArray<ReadonlyArray<string>>): string[] => [
  `| ${header.map(escapeCell).join(" | ")} |`,
  `| ${align.map((a) => (a === "l" ? ":--" : "--:")).join(" | ")} |`,
  ...rows.map((r) => `| ${r.map(escapeCell).join(" | ")} |`)
]

const recordList = (records: ReadonlyArray<JobRecord>): string =>
  records.length === 0
    ? "none"
    : records.map((r) => `${code(r.hash === null ? "no record" : r.hash.slice(0, 12))} (seed ${r.seed})`).join(", ")

export const renderCheckMarkdown = (report: CheckReport, options: { all?: boolean } = {}): string => {
  const { result } = report
  const n = result.regressions.length
  const lines = [
    n > 0
      ? `### ❌ harness check: ${n} of ${result.rows.length} comparisons regressed`
      : `### ✅ harness check: no regression in ${result.rows.length} comparisons`,
    "",
    `Candidate ${code(result.candidate)} against baseline ${code(result.baseline)} (Holm, alpha ${result.alpha}); exit code ${result.exitCode}.`,
    "",
    ...table(
      ["verdict", "comparisons"],
      ["l", "r"],
      verdictCounts(result).map((v) => [verdictText(v.verdict), String(v.count)])
    )
  ]
  const shown = shownRows(result, options.all ?? false)
  const byCell = new Map<string, CheckRow[]>()
  for (const r of shown) byCell.set(r.cell, [...(byCell.get(r.cell) ?? []), r])
  lines.push("", options.all ? "#### Cells" : "#### Changed cells", "")
  if (byCell.size === 0) lines.push("Every comparison is unchanged (or not judged).")
  // cells with a regression first, then in the order of their most alarming row (shownRows' order)
  for (const [cell, rows] of byCell) {
    const records = report.records.get(cell)
    lines.push(
      `**${code(cell)}**: baseline records ${recordList(records?.baseline ?? [])}; candidate records ${recordList(records?.candidate ?? [])}`,
      "",
      ...table(
        ["verdict", "metric", "baseline", "candidate", "change", "rel", "threshold", "n", "p (Holm)", "test"],
        ["l", "l", "r", "r", "r", "r", "r", "r", "r", "l"],
        rows.map((r) => [verdictText(r.verdict), metricLabel(r), ...comparisonCells(r)])
      ),
      ""
    )
  }
  lines.push(
    n > 0
      ? "A regression is a change beyond the metric's threshold in its bad direction that is significant after Holm's correction; on a bitwise-deterministic backend any such change counts. Record hashes are `job.done` records: `harness ledger export` lists them."
      : "Record hashes are `job.done` records: `harness ledger export` lists them."
  )
  return lines.join("\n").trimEnd()
}
