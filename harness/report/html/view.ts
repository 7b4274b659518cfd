/**
 * What the HTML view shows, read from the ledger beforehand (load-view.ts) so that rendering stays pure: the same
 * view gives the same bytes, and tests can render a page without a ledger file.
 */
import type { JobRow, MetricRow, RunRow, VerifyProblem } from "../../../ledger/types.js"
import type { ReportInput } from "../types.js"

/** The outcome of the same check `harness ledger verify` runs, on the same file. */
export interface LedgerVerdict {
  readonly ok: boolean
  /** the verify command's own text, word for word */
  readonly text: string
  readonly records: number | null
  readonly headHash: string | null
  readonly problems: ReadonlyArray<VerifyProblem>
}

export interface ViewRun {
  readonly row: RunRow
  /** hash of its `run.begin` record */
  readonly beginHash: string | null
}

export interface ViewJob {
  readonly row: JobRow
  /** hash of its `job.done` record; null for a job that did not finish */
  readonly doneHash: string | null
  readonly metrics: ReadonlyArray<MetricRow>
}

export interface ViewSuite {
  /** what the Markdown report of this suite is rendered from */
  readonly input: ReportInput
  /** every job row of the suite, every attempt */
  readonly jobs: ReadonlyArray<ViewJob>
}

/** One link of the hash chain, and the run or job it is about. */
export interface ViewRecord {
  readonly seq: number
  readonly kind: string
  readonly at: string
  readonly hash: string
  readonly runId: string | null
  readonly jobId: string | null
}

export interface HtmlView {
  readonly title: string
  /** ISO timestamp, passed in */
  readonly generatedAt: string
  readonly ledgerPath: string
  /** hash of the last record, as the store reads it */
  readonly headHash: string
  readonly verify: LedgerVerdict
  readonly runs: ReadonlyArray<ViewRun>
  readonly suites: ReadonlyArray<ViewSuite>
  /** the records of the runs and jobs shown, in chain order */
  readonly records: ReadonlyArray<ViewRecord>
}
