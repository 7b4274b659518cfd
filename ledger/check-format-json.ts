/**
 * `harness check --format json` (also `--json`): for scripts. The CheckResult as it is (baseline, candidate,
 * alpha, rows, regressions, exitCode: what `--json` always printed), plus a summary by verdict and, per cell, the
 * worst verdict and the full hashes of the `job.done` records on both sides. Numbers are at full precision;
 * `format` names this shape so a script can refuse one it does not know.
 */
import { VERDICT_ORDER, verdictCounts, type CheckReport } from "./check-report.js"

export const CHECK_JSON_FORMAT = "fope-harness/check@1"

export const checkJson = (report: CheckReport) => {
  const { result } = report
  const cells = [...new Set(result.rows.map((r) => r.cell))].map((cell) => {
    const rows = result.rows.filter((r) => r.cell === cell)
    const worst = rows.reduce((w, r) => (VERDICT_ORDER.indexOf(r.verdict) < VERDICT_ORDER.indexOf(w) ? r.verdict : w), rows[0]!.verdict)
    const records = report.records.get(cell)
    return {
      cell,
      verdict: worst,
      regressions: rows.filter((r) => r.regression).length,
      comparisons: rows.length,
      baselineRecords: records?.baseline ?? [],
      candidateRecords: records?.candidate ?? []
    }
  })
  return {
    format: CHECK_JSON_FORMAT,
    ...result,
    summary: {
      comparisons: result.rows.length,
      regressions: result.regressions.length,
      verdicts: Object.fromEntries(verdictCounts(result).map((v) => [v.verdict, v.count]))
    },
    cells
  }
}

export const renderCheckJson = (report: CheckReport): string => JSON.stringify(checkJson(report), null, 2)
