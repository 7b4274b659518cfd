/**
 * `harness check --format junit`: JUnit XML, the one report format every CI server reads (GitHub via a test
 * reporter action, GitLab's `artifacts:reports:junit`, Jenkins, Buildkite), so each regressed cell shows as a
 * failed test case next to the project's own tests.
 *
 * One <testcase> per compared cell (suite/embedding/scale: the seeds of a cell are its replicates); it fails
 * when any of its metric x length comparisons regressed (exactly the rows that make the exit code 1), and is
 * skipped when none of them could be judged (missing from the candidate, one seed on a noisy backend).
 * The failure's text lists the cell's changed rows; <system-out> names the ledger records on both sides (and,
 * for a passing cell, what changed within its threshold).
 */
import type { CheckRow } from "./check.js"
import { metricLabel, showThreshold, shownRows, type CheckReport, type JobRecord } from "./check-report.js"
import { formatNumber, formatP, formatPercent, formatSigned } from "./table.js"

/** Characters XML 1.0 cannot hold at all (control characters other than tab, newline, carriage return). */
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g

const escapeXml = (text: string): string =>
  text
    .replace(INVALID_XML, "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;")

const attrs = (values: Record<string, string | number>): string =>
  Object.entries(values)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join("")

/** Verdicts that judged nothing: a cell made only of these is skipped, not passed. */
const UNJUDGED = new Set<CheckRow["verdict"]>(["missing", "untested", "not judged"])

const rowLine = (r: CheckRow): string =>
  `${r.verdict}: ${metricLabel(r)} ${formatNumber(r.baseline)} -> ${formatNumber(r.candidate)} (${formatSigned(r.change)}, ${formatPercent(r.relativeChange)}; ` +
  `threshold ${showThreshold(r.threshold)}; n ${r.n}; p (Holm) ${formatP(r.pAdjusted)}; ${r.test?.test ?? r.kind})`

const recordLines = (side: string, records: ReadonlyArray<JobRecord>): string[] =>
  records.length === 0
    ? [`${side}: no jobs`]
    : records.map((r) => `${side}: ${r.job} seed ${r.seed} job.done ${r.hash ?? "(no record)"} key ${r.key}`)

export const renderCheckJunit = (report: CheckReport): string => {
  const { result } = report
  const byCell = new Map<string, CheckRow[]>()
  for (const r of result.rows) byCell.set(r.cell, [...(byCell.get(r.cell) ?? []), r])
  // each cell's changed rows, most alarming first (the table's order)
  const changed = new Map<string, CheckRow[]>()
  for (const r of shownRows(result)) changed.set(r.cell, [...(changed.get(r.cell) ?? []), r])

  const cases: string[] = []
  let failures = 0
  let skipped = 0
  for (const [cell, rows] of byCell) {
    const regressed = rows.filter((r) => r.regression)
    const records = report.records.get(cell)
    const detail = (changed.get(cell) ?? []).map(rowLine)
    // a passing cell may still have changed (within its threshold, or an improvement): say so beside its records
    const out = [
      ...(regressed.length > 0 ? [] : detail),
      ...recordLines("baseline", records?.baseline ?? []),
      ...recordLines("candidate", records?.candidate ?? [])
    ]
    let body = ""
    if (regressed.length > 0) {
      failures++
      const message =
        `${regressed.length} of ${rows.length} comparisons regressed: ` +
        regressed.map((r) => `${metricLabel(r)} ${formatPercent(r.relativeChange)} (threshold ${showThreshold(r.threshold)})`).join(", ")
      body = `      <failure${attrs({ type: "regression", message })}>${escapeXml(detail.join("\n"))}</failure>\n`
    } else if (rows.every((r) => UNJUDGED.has(r.verdict))) {
      skipped++
      body = `      <skipped${attrs({ message: `nothing judged: ${[...new Set(rows.map((r) => r.verdict))].join(", ")}` })}/>\n`
    }
    cases.push(
      `    <testcase${attrs({ classname: `harness check.${cell.split("/")[0]}`, name: cell, assertions: rows.length })}>\n` +
        body +
        `      <system-out>${escapeXml(out.join("\n"))}</system-out>\n` +
        `    </testcase>\n`
    )
  }
  const counts = { tests: byCell.size, failures, errors: 0, skipped }
  const properties = {
    baseline: result.baseline,
    candidate: result.candidate,
    alpha: result.alpha,
    comparisons: result.rows.length,
    regressions: result.regressions.length,
    "exit code": result.exitCode
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites${attrs({ name: "harness check", ...counts })}>\n` +
    `  <testsuite${attrs({ name: `harness check: ${result.candidate} against ${result.baseline}`, ...counts })}>\n` +
    `    <properties>\n` +
    Object.entries(properties)
      .map(([name, value]) => `      <property${attrs({ name, value })}/>\n`)
      .join("") +
    `    </properties>\n` +
    cases.join("") +
    `  </testsuite>\n` +
    `</testsuites>`
  )
}
