/**
 * The ledger as an Effect service: a thin layer over the synchronous LedgerStore. The layer opens the
 * database and closes it when its scope ends (acquireRelease), and every method returns an Effect whose
 * error channel holds tagged errors the CLI can print and map to exit codes. Errors that are not ledger
 * errors (bugs) are defects.
 */
import { Context, Effect, Layer } from "effect"
import { isLedgerError, LedgerTampered, type LedgerError } from "./errors.js"
import { LedgerStore, type LedgerOpenOptions } from "./store.js"
import type {
  CertificateInput,
  CertificateRow,
  CompleteJobInput,
  JobFilter,
  JobRow,
  MetricRow,
  RunInfo,
  RunRow,
  StartJobInput,
  VerifyReport
} from "./types.js"

/** Runs a synchronous store call: a ledger error -> its tagged failure, anything else -> defect. */
export const attempt = <A>(f: () => A): Effect.Effect<A, LedgerError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (e) {
      return isLedgerError(e) ? Effect.fail(e) : Effect.die(e)
    }
  })

export interface LedgerShape {
  readonly file: string
  /** the synchronous store, for diff / check / export which work on it directly */
  readonly store: LedgerStore
  readonly beginRun: (info: RunInfo) => Effect.Effect<RunRow, LedgerError>
  readonly finishRun: (runId: string) => Effect.Effect<RunRow, LedgerError>
  readonly findDoneJob: (key: string) => Effect.Effect<JobRow | undefined, LedgerError>
  readonly findResumableJob: (key: string) => Effect.Effect<JobRow | undefined, LedgerError>
  readonly startJob: (input: StartJobInput) => Effect.Effect<JobRow, LedgerError>
  readonly resumeJob: (jobId: string) => Effect.Effect<JobRow, LedgerError>
  /** the job's metrics, artifacts, timings: one transaction, one chained record */
  readonly completeJob: (jobId: string, result: CompleteJobInput) => Effect.Effect<JobRow, LedgerError>
  readonly failJob: (jobId: string, failure: { error: string; step?: number | null }) => Effect.Effect<JobRow, LedgerError>
  readonly interruptJob: (jobId: string, info?: { step?: number | null; checkpoint?: string | null }) => Effect.Effect<JobRow, LedgerError>
  readonly markStaleJobs: () => Effect.Effect<number, LedgerError>
  readonly recordCertificate: (input: CertificateInput) => Effect.Effect<CertificateRow, LedgerError>
  readonly job: (jobId: string) => Effect.Effect<JobRow | undefined, LedgerError>
  readonly jobs: (filter?: JobFilter) => Effect.Effect<ReadonlyArray<JobRow>, LedgerError>
  readonly runs: () => Effect.Effect<ReadonlyArray<RunRow>, LedgerError>
  readonly metrics: (jobId: string) => Effect.Effect<ReadonlyArray<MetricRow>, LedgerError>
  readonly verify: () => Effect.Effect<VerifyReport, LedgerError>
  /** verify, failing with LedgerTampered (naming the first bad record) when the ledger does not verify */
  readonly assertIntact: () => Effect.Effect<VerifyReport, LedgerError>
}

export const makeLedger = (store: LedgerStore): LedgerShape => ({
  file: store.file,
  store,
  beginRun: (info) => attempt(() => store.beginRun(info)),
  finishRun: (runId) => attempt(() => store.finishRun(runId)),
  findDoneJob: (key) => attempt(() => store.findDoneJob(key)),
  findResumableJob: (key) => attempt(() => store.findResumableJob(key)),
  startJob: (input) => attempt(() => store.startJob(input)),
  resumeJob: (jobId) => attempt(() => store.resumeJob(jobId)),
  completeJob: (jobId, result) => attempt(() => store.completeJob(jobId, result)),
  failJob: (jobId, failure) => attempt(() => store.failJob(jobId, failure)),
  interruptJob: (jobId, info) => attempt(() => store.interruptJob(jobId, info)),
  markStaleJobs: () => attempt(() => store.markStaleJobs()),
  recordCertificate: (input) => attempt(() => store.recordCertificate(input)),
  job: (jobId) => attempt(() => store.job(jobId)),
  jobs: (filter) => attempt(() => store.jobs(filter)),
  runs: () => attempt(() => store.runs()),
  metrics: (jobId) => attempt(() => store.metrics(jobId)),
  verify: () => attempt(() => store.verify()),
  assertIntact: () =>
    Effect.flatMap(
      attempt(() => store.verify()),
      (report): Effect.Effect<VerifyReport, LedgerError> =>
        report.ok
          ? Effect.succeed(report)
          : Effect.fail(
              new LedgerTampered({
                file: store.file,
                message:
                  `ledger ${store.file} fails verification at ${report.firstBad!.table} ${report.firstBad!.id}: ${report.firstBad!.reason}. ` +
                  "Restore it from a JSON Lines export or a backup; run harness ledger verify for the full list"
              })
            )
    )
})

export class Ledger extends Context.Service<Ledger, LedgerShape>()("fope-harness/Ledger") {
  /** Opens the ledger at `path` for the layer's lifetime; the database is closed when the scope ends. */
  static readonly layer = (path: string, options: LedgerOpenOptions = {}): Layer.Layer<Ledger, LedgerError> =>
    Layer.effect(
      Ledger,
      Effect.map(
        Effect.acquireRelease(
          attempt(() => LedgerStore.open(path, options)),
          (store) => Effect.sync(() => store.close())
        ),
        makeLedger
      )
    )
}
