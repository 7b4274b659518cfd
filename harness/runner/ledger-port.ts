/**
 * The ledger as the runner sees it: an Effect service over ledger/store.ts (synchronous better-sqlite3),
 * opened once per command and closed when the command ends (acquireRelease), with the store's errors turned
 * into a tagged `LedgerFailure` whose message names the file, the problem and the fix.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { LedgerStore } from "../../ledger/store.js"
import type { ArtifactRecord, MetricRecord, MetricRow, Reproducibility } from "../../ledger/types.js"
import type { Job } from "../plan/job.js"
import type { GitFacts } from "../provenance/code-version.js"

export class LedgerFailure extends Schema.TaggedError<LedgerFailure>()("LedgerFailure", {
  message: Schema.String,
  code: Schema.String
}) {}

export interface DoneJob {
  readonly jobId: string
  readonly runId: string
  readonly metrics: ReadonlyArray<MetricRow>
}

export interface LedgerPortShape {
  readonly file: string
  readonly store: LedgerStore
  readonly beginRun: (info: { suite: string; suitePath: string; codeVersion: string; git: GitFacts; environment: unknown; argv: ReadonlyArray<string> }) => Effect.Effect<string, LedgerFailure>
  readonly finishRun: (runId: string) => Effect.Effect<void, LedgerFailure>
  readonly findDone: (key: string) => Effect.Effect<DoneJob | undefined, LedgerFailure>
  /** a new job record, or the interrupted record of the same key taken back to running when resuming */
  readonly startJob: (runId: string, job: Job, resuming: boolean) => Effect.Effect<string, LedgerFailure>
  readonly completeJob: (
    jobId: string,
    result: { metrics: ReadonlyArray<MetricRecord>; artifacts: ReadonlyArray<ArtifactRecord>; timings: Record<string, number>; reproducibility: Reproducibility }
  ) => Effect.Effect<void, LedgerFailure>
  readonly failJob: (jobId: string, failure: { error: string; step: number }) => Effect.Effect<void, LedgerFailure>
  readonly interruptJob: (jobId: string, info: { step: number; checkpoint: { path: string; sha256: string } }) => Effect.Effect<void, LedgerFailure>
  readonly markStale: () => Effect.Effect<number, LedgerFailure>
  /** mean training tokens/s of done jobs at this scale and length (same backend when recorded), for estimates */
  readonly measuredThroughput: (q: { scale: string; seqLength: number; backend: string }) => Effect.Effect<number | undefined, LedgerFailure>
}

const attempt = <A>(file: string, f: () => A): Effect.Effect<A, LedgerFailure> =>
  Effect.try({
    try: f,
    catch: (e) => {
      const err = e as { code?: string; message?: string }
      return new LedgerFailure({ message: err.message ?? String(e), code: typeof err.code === "string" ? err.code : "unknown" })
    }
  })

const makePort = (store: LedgerStore): LedgerPortShape => {
  const file = store.file
  const run = <A>(f: () => A) => attempt(file, f)
  return {
    file,
    store,
    beginRun: (info) =>
      run(() =>
        store.beginRun({
          suite: info.suite,
          git: info.git,
          codeVersion: info.codeVersion,
          environment: { ...(info.environment as object), suitePath: info.suitePath, argv: info.argv }
        }).id
      ),
    finishRun: (runId) => run(() => void store.finishRun(runId)),
    findDone: (key) =>
      run(() => {
        const j = store.findDoneJob(key)
        return j ? { jobId: j.id, runId: j.runId, metrics: store.metrics(j.id) } : undefined
      }),
    startJob: (runId, job, resuming) =>
      run(() => {
        const interrupted = resuming ? store.jobs({ key: job.key, status: "interrupted" }).at(-1) : undefined
        if (interrupted) return store.resumeJob(interrupted.id).id
        return store.startJob({ runId, key: job.key, name: job.name, config: job.config, seed: job.config.seed, suite: job.config.suite }).id
      }),
    completeJob: (jobId, result) =>
      run(() => void store.completeJob(jobId, { metrics: result.metrics, artifacts: result.artifacts, timings: result.timings, reproducibility: result.reproducibility })),
    failJob: (jobId, failure) => run(() => void store.failJob(jobId, failure)),
    interruptJob: (jobId, info) => run(() => void store.interruptJob(jobId, { step: info.step, checkpoint: info.checkpoint.path })),
    markStale: () => run(() => store.markStaleJobs()),
    measuredThroughput: (q) =>
      run(() => {
        const rates: number[] = []
        for (const j of store.jobs({ status: "done" })) {
          const c = j.config as { model?: { scale?: string }; training?: { seqLength?: number } } | null
          if (c?.model?.scale !== q.scale || c?.training?.seqLength !== q.seqLength) continue
          const m = store.metrics(j.id).find((x) => x.name === "train_tokens_per_s")
          if (m) rates.push(m.value)
        }
        return rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : undefined
      })
  }
}

export class LedgerPort extends Context.Service<LedgerPort, LedgerPortShape>()("fope-harness/LedgerPort") {
  static readonly layer = (file: string) =>
    Layer.effect(
      LedgerPort,
      Effect.acquireRelease(
        attempt(file, () => makePort(LedgerStore.open(file))),
        (port) => Effect.sync(() => port.store.close())
      )
    )
}
