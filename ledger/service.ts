/**
 * The ledger as an Effect service: a thin layer over the synchronous LedgerStore. The layer opens the
 * database and closes it when its scope ends (acquireRelease), and every method returns an Effect whose
 * error channel holds tagged errors the CLI can print and map to exit codes. Errors that are not ledger
 * errors (bugs) are defects.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { LedgerStoreError } from "./errors.js"
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

/** Not a SQLite database, not a ledger, or damaged. */
export class LedgerCorrupt extends Schema.TaggedError<LedgerCorrupt>()("LedgerCorrupt", {
  file: Schema.String,
  message: Schema.String
}) {}

/** The hash chain, or a table, disagrees with what was recorded. */
export class LedgerTampered extends Schema.TaggedError<LedgerTampered>()("LedgerTampered", {
  file: Schema.String,
  message: Schema.String
}) {}

/** Another process held the write lock past the busy timeout. */
export class LedgerBusy extends Schema.TaggedError<LedgerBusy>()("LedgerBusy", {
  file: Schema.String,
  message: Schema.String
}) {}

/** SQLITE_FULL: nothing was written (the transaction rolled back); free space and rerun. */
export class LedgerDiskFull extends Schema.TaggedError<LedgerDiskFull>()("LedgerDiskFull", {
  file: Schema.String,
  message: Schema.String
}) {}

/** Written by a newer harness. */
export class LedgerSchemaTooNew extends Schema.TaggedError<LedgerSchemaTooNew>()("LedgerSchemaTooNew", {
  file: Schema.String,
  message: Schema.String
}) {}

/** A call that does not fit the ledger's state (unknown job or run, completing a finished job, bad metric). */
export class LedgerInvalid extends Schema.TaggedError<LedgerInvalid>()("LedgerInvalid", {
  file: Schema.String,
  message: Schema.String
}) {}

export type LedgerError = LedgerCorrupt | LedgerTampered | LedgerBusy | LedgerDiskFull | LedgerSchemaTooNew | LedgerInvalid

export const toLedgerError = (e: LedgerStoreError): LedgerError => {
  const fields = { file: e.file, message: e.message }
  switch (e.code) {
    case "corrupt":
      return new LedgerCorrupt(fields)
    case "tampered":
      return new LedgerTampered(fields)
    case "busy":
      return new LedgerBusy(fields)
    case "disk-full":
      return new LedgerDiskFull(fields)
    case "schema-too-new":
      return new LedgerSchemaTooNew(fields)
    case "invalid":
      return new LedgerInvalid(fields)
  }
}

/** Runs a synchronous store call: LedgerStoreError -> tagged failure, anything else -> defect. */
export const attempt = <A>(f: () => A): Effect.Effect<A, LedgerError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (e) {
      return e instanceof LedgerStoreError ? Effect.fail(toLedgerError(e)) : Effect.die(e)
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
                message: `ledger ${store.file} fails verification at ${report.firstBad!.table} ${report.firstBad!.id}: ${report.firstBad!.reason}. ` +
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
