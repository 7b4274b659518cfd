/**
 * The runner's questions and records on top of the ledger service (ledger/service.ts): which jobs are done (with
 * their metrics), starting a job or resuming its interrupted record, and the throughput already measured (for
 * `--dry-run` estimates). Errors stay the ledger's tagged errors (LedgerCorrupt, LedgerBusy, LedgerDiskFull, ...).
 */
import { Effect } from "effect"
import { Ledger } from "../../ledger/service.js"
import type { MetricRow } from "../../ledger/types.js"
import type { Job } from "../plan/job.js"
import type { GitFacts } from "../provenance/code-version.js"

export interface DoneJob {
  readonly jobId: string
  readonly runId: string
  readonly metrics: ReadonlyArray<MetricRow>
}

/** The latest done job with this key, and its metrics. */
export const findDone = (key: string) =>
  Effect.gen(function* () {
    const ledger = yield* Ledger
    const job = yield* ledger.findDoneJob(key)
    if (!job) return undefined
    const metrics = yield* ledger.metrics(job.id)
    return { jobId: job.id, runId: job.runId, metrics } satisfies DoneJob
  })

export const beginSuiteRun = (info: { suite: string; codeVersion: string; git: GitFacts; environment: unknown }) =>
  Effect.gen(function* () {
    const ledger = yield* Ledger
    const run = yield* ledger.beginRun({
      suite: info.suite,
      git: info.git,
      codeVersion: info.codeVersion,
      environment: info.environment
    })
    return run.id
  })

/** A new job record, or, when resuming from a checkpoint, the interrupted record of the same key taken back to running. */
export const startOrResumeJob = (runId: string, job: Job, resuming: boolean) =>
  Effect.gen(function* () {
    const ledger = yield* Ledger
    const interrupted = resuming ? (yield* ledger.jobs({ key: job.key, status: "interrupted" })).at(-1) : undefined
    const row = interrupted
      ? yield* ledger.resumeJob(interrupted.id)
      : yield* ledger.startJob({ runId, key: job.key, name: job.name, config: job.config, seed: job.config.seed, suite: job.config.suite })
    return row.id
  })

/**
 * Mean training tokens/s measured by done jobs of this scale: at this training length when there are any
 * (`sameLength`), else at any length (attention makes longer sequences somewhat slower per token).
 */
export const measuredThroughput = (q: { scale: string; seqLength: number }) =>
  Effect.gen(function* () {
    const ledger = yield* Ledger
    const same: number[] = []
    const other: number[] = []
    for (const j of yield* ledger.jobs({ status: "done" })) {
      const c = j.config as { model?: { scale?: string }; training?: { seqLength?: number } } | null
      if (c?.model?.scale !== q.scale) continue
      const m = (yield* ledger.metrics(j.id)).find((x) => x.name === "train_tokens_per_s")
      if (m) (c?.training?.seqLength === q.seqLength ? same : other).push(m.value)
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    if (same.length) return { rate: mean(same), sameLength: true }
    if (other.length) return { rate: mean(other), sameLength: false }
    return undefined
  })
