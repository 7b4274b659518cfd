/**
 * The report's input read from the ledger: a suite's jobs projected to plain data, each with the hash of its
 * `job.done` record. Shared by `harness report` (Markdown), `harness results` and the HTML view, so that all three
 * show the same jobs.
 */
import { doneRecordHashes } from "../../ledger/check-report.js"
import type { LedgerStore } from "../../ledger/store.js"
import type { JobRow } from "../../ledger/types.js"
import type { JobConfig } from "../plan/job.js"
import { loadSuiteSync } from "../suite/load-suite.js"
import type { ReportInput, ReportJob } from "./types.js"

/** "wasm (1 thread, tuned kernels)": the backend a run's environment record names, in a few words. */
export const describeBackend = (environment: unknown): string => {
  const e = (environment ?? {}) as { engine?: { backend?: string; threads?: number; kernelOverrides?: ReadonlyArray<string> } }
  if (!e.engine?.backend) return "unknown"
  const tuned = (e.engine.kernelOverrides?.length ?? 0) > 0 ? ", tuned kernels" : ""
  return `${e.engine.backend} (${e.engine.threads ?? "?"} thread${e.engine.threads === 1 ? "" : "s"}${tuned})`
}

/** A shipped suite's description; the ledger keeps only the suite's name. */
export const suiteDescription = (suite: string): string => {
  try {
    return loadSuiteSync(suite).suite.description
  } catch {
    return "(not a shipped suite; description unavailable)"
  }
}

/** The suite's jobs as the ledger holds them: per job name, the latest done record, else the latest attempt. */
export const reportInputFromLedger = (store: LedgerStore, suite: string, description: string, generatedAt: string): ReportInput => {
  const doneHash = doneRecordHashes(store)
  const latest = new Map<string, JobRow>()
  for (const j of store.jobs({ suite })) {
    const prev = latest.get(j.name)
    if (!prev || j.status === "done" || prev.status !== "done") latest.set(j.name, j)
  }
  const jobs: ReportJob[] = [...latest.values()].map((j) => {
    const config = j.config as JobConfig
    return {
      name: j.name,
      cell: { embedding: config.embedding?.label ?? "?", scale: config.model?.scale ?? "?", seed: j.seed },
      key: j.key,
      recordHash: doneHash.get(j.id) ?? "",
      status: j.status,
      trainLength: config.model?.trainLength ?? 0,
      backend: describeBackend(store.run(j.runId)?.environment),
      metrics: j.status === "done" ? store.metrics(j.id) : []
    }
  })
  return { suite, description, generatedAt, ledgerPath: store.file, ledgerHeadHash: store.head()?.hash ?? "", jobs }
}
