/**
 * Reads what the HTML view shows from an open ledger: the report input of each suite (the same projection the
 * Markdown report uses), every job row and its metrics, the runs and the chain records behind them, and the
 * verdict of the same verification `harness ledger verify` runs (read-only, on its own connection).
 */
import { basename } from "node:path"
import { doneRecordHashes } from "../../../ledger/check-report.js"
import { verifyCommand } from "../../../ledger/commands.js"
import type { LedgerStore } from "../../../ledger/store.js"
import type { VerifyReport } from "../../../ledger/types.js"
import { reportInputFromLedger, suiteDescription } from "../ledger-input.js"
import type { HtmlView, LedgerVerdict, ViewRecord, ViewSuite } from "./view.js"

export const verifyLedger = (file: string): LedgerVerdict => {
  try {
    const result = verifyCommand(file)
    const report = (result.json ?? {}) as Partial<VerifyReport>
    return {
      ok: result.exitCode === 0,
      text: result.text,
      records: typeof report.records === "number" ? report.records : null,
      headHash: typeof report.headHash === "string" ? report.headHash : null,
      problems: report.problems ?? []
    }
  } catch (e) {
    // the verify command rethrows what is not a ledger error; the page still says that verification did not pass
    return { ok: false, text: `verification could not run: ${(e as Error).message}`, records: null, headHash: null, problems: [] }
  }
}

/** The suites a ledger holds, in the order their first jobs were recorded. */
export const ledgerSuites = (store: LedgerStore): string[] => [...new Set(store.jobs().map((j) => j.suite))]

const idOf = (data: unknown, field: "runId" | "jobId"): string | null => {
  const value = (data as Record<string, unknown> | null)?.[field]
  return typeof value === "string" ? value : null
}

/**
 * The view of `suites` (all of the ledger's when undefined). `generatedAt` is passed in, as for the Markdown
 * report, so that a test can fix it.
 */
export const loadView = (store: LedgerStore, options: { readonly suite?: string; readonly generatedAt: string }): HtmlView => {
  const all = options.suite === undefined
  const suiteNames = all ? ledgerSuites(store) : [options.suite!]
  const doneHash = doneRecordHashes(store)
  const suites: ViewSuite[] = suiteNames.map((suite) => ({
    input: reportInputFromLedger(store, suite, suiteDescription(suite), options.generatedAt),
    jobs: store
      .jobs({ suite })
      .map((row) => ({ row, doneHash: doneHash.get(row.id) ?? null, metrics: row.status === "done" ? store.metrics(row.id) : [] }))
  }))
  const jobIds = new Set(suites.flatMap((s) => s.jobs.map((j) => j.row.id)))
  const runIds = new Set(suites.flatMap((s) => s.jobs.map((j) => j.row.runId)))
  // a run that ended before its first job still belongs to its suite
  const runs = store.runs().filter((r) => all || runIds.has(r.id) || suiteNames.includes(r.suite))
  for (const r of runs) runIds.add(r.id)
  const records: ViewRecord[] = []
  const beginHash = new Map<string, string>()
  for (const r of store.chainRecords()) {
    const runId = idOf(r.data, "runId")
    const jobId = idOf(r.data, "jobId")
    if (r.kind === "run.begin" && runId !== null) beginHash.set(runId, r.hash)
    if (all || (runId !== null && runIds.has(runId) && (jobId === null || jobIds.has(jobId))) || (jobId !== null && jobIds.has(jobId))) {
      records.push({ seq: r.seq, kind: r.kind, at: r.at, hash: r.hash, runId, jobId })
    }
  }
  return {
    title: all ? `Ledger view: ${basename(store.file)}` : `Ledger view: ${options.suite}`,
    generatedAt: options.generatedAt,
    ledgerPath: store.file,
    headHash: store.head()?.hash ?? "",
    verify: verifyLedger(store.file),
    runs: runs.map((row) => ({ row, beginHash: beginHash.get(row.id) ?? null })),
    suites,
    records
  }
}
