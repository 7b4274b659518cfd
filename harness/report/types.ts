/**
 * What the report generator reads: the jobs of one suite as the ledger holds them, already projected to plain
 * data (the caller queries the ledger; the renderer does no I/O). Every number shown in a report comes from
 * `metrics` of a job whose status is "done", and is traceable through `recordHash` to its ledger record.
 */
import type { MetricRecord } from "../../ledger/types.js"

/** A metric as the ledger stores it (harness/ may import ledger/: one definition). */
export type ReportMetric = MetricRecord

export interface ReportJob {
  /** e.g. "quickstart/rope/nano/seed0" */
  readonly name: string
  readonly cell: { readonly embedding: string; readonly scale: string; readonly seed: number }
  /** job key (sha256 hex) */
  readonly key: string
  /** the ledger record hash of the job's "done" record (sha256 hex) */
  readonly recordHash: string
  readonly status: "done" | "failed" | "interrupted" | "running"
  readonly trainLength: number
  /** e.g. "wasm (2 threads, XNNPACK)" */
  readonly backend: string
  readonly metrics: ReadonlyArray<ReportMetric>
}

export interface ReportInput {
  readonly suite: string
  readonly description: string
  /** ISO timestamp; passed in so that rendering stays pure and reproducible */
  readonly generatedAt: string
  readonly ledgerPath: string
  readonly ledgerHeadHash: string
  readonly jobs: ReadonlyArray<ReportJob>
}

/** One file next to the Markdown (an SVG plot), referenced from it by this relative name. */
export interface ReportFile {
  name: string
  content: string
}

export interface RenderedReport {
  markdown: string
  files: Array<ReportFile>
}
