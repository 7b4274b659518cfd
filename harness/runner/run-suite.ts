/**
 * `harness run <suite>`: plan the suite, skip the jobs the ledger already holds (by key), run the rest, and
 * print the results table. GPU-only scales are refused before any job starts, with the reason and the fix.
 */
import { Effect } from "effect"
import { assertScaleRunnable, resolveScale } from "../../models/scales.js"
import type { Suite } from "../../suites/schema.js"
import { JobRefused, SuiteError, TrainingDiverged } from "../errors.js"
import { evaluationLengthProblem } from "../suite/suite-limits.js"
import { expandPlan } from "../plan/expand.js"
import type { Job } from "../plan/job.js"
import { codeVersion, gitFacts } from "../provenance/code-version.js"
import { environmentFingerprint } from "../provenance/environment.js"
import { CorpusService } from "./corpus-service.js"
import { corpusLengthProblems } from "../../models/data/corpus.js"
import { Engine } from "./engine-service.js"
import { Ledger } from "../../ledger/service.js"
import { beginSuiteRun, findDone } from "./job-records.js"
import { Progress, formatDuration } from "./progress.js"
import { clearCheckpoint, runJob } from "./run-job.js"
import { planJobsMemory } from "./step-memory.js"
import { resultsTable } from "./results-table.js"
import { describeEngine } from "../../models/engine/index.js"

/** Ledgers up to this many records are verified in full before a run appends to them (about 3 s at the limit). */
export const VERIFY_ON_START_MAX_RECORDS = 50_000

export interface RunOptions {
  readonly suite: Suite
  readonly force: boolean
  readonly forceScale: boolean
  readonly seeds?: ReadonlyArray<number>
  readonly shard?: { readonly index: number; readonly count: number }
  readonly checkpointRoot: string
}

export interface RunSummary {
  readonly runId: string
  readonly planned: number
  readonly skipped: number
  readonly done: number
  readonly failed: number
  readonly table: string
}

/** Plans the suite against the corpus hash and the code version (no training). */
export const planSuite = Effect.fn("planSuite")(function* (suite: Suite, options: Pick<RunOptions, "seeds" | "shard">) {
  const corpus = yield* CorpusService
  const first = suite.data
  const validFraction = typeof first.corpus === "object" ? (first.corpus.validFraction ?? 0.1) : 0.1
  const data = yield* corpus.load({
    corpus: first.corpus,
    tokenizer: first.tokenizer,
    validFraction,
    passkeyFraction: first.passkeyFraction ?? 0,
    ...(first.synthetic ? { synthetic: first.synthetic } : {})
  })
  // a declared corpus may be too short for one training window or the longest evaluation; both are named at once
  const short = corpusLengthProblems(
    data.corpus,
    suite.training.length,
    suite.training.length * Math.max(...suite.evaluation.lengthMultiples)
  )
  if (short.length > 0) return yield* new SuiteError({ message: `suite "${suite.name}": ${short.join("; ")}` })
  // checkable only once the split is tokenized: the longest evaluation window must fit the validation stream
  const tooLong = evaluationLengthProblem(suite, data.valid.length)
  if (tooLong) return yield* new SuiteError({ message: `suite "${suite.name}": ${tooLong}` })
  // expandPlan refuses an oversized plan or repeated --seeds with a UsageError: a failure to report, not a defect
  return yield* expandPlan(suite, {
    dataHash: data.hash,
    codeVersion: codeVersion(),
    ...(options.seeds ? { seeds: options.seeds } : {}),
    ...(options.shard ? { shard: options.shard } : {})
  })
})

const refuseGpuScales = (jobs: ReadonlyArray<Job>, engine: { backend: string; gpu: boolean; threads: number }, force: boolean) =>
  Effect.try({
    try: () => {
      for (const scale of new Set(jobs.map((j) => j.config.model.scale))) {
        const j = jobs.find((x) => x.config.model.scale === scale)!
        assertScaleRunnable(resolveScale(scale), engine, force, {
          vocabSize: j.config.model.vocabSize,
          batchSize: j.config.training.batchSize,
          seqLength: j.config.training.seqLength
        })
      }
    },
    catch: (e) => new JobRefused({ message: (e as Error).message })
  })

export const runSuite = Effect.fn("runSuite")(function* (options: RunOptions) {
  const ledger = yield* Ledger
  const progress = yield* Progress
  const engine = yield* Engine
  const jobs = yield* planSuite(options.suite, options)
  yield* refuseGpuScales(jobs, engine, options.forceScale)
  yield* planJobsMemory(jobs, engine)

  // never append to a ledger that was edited behind the harness's back: the new records would chain onto a lie.
  // Full verification is linear in the ledger (about 15,000 records/s here); past a size, leave it to `ledger verify`.
  if (ledger.store.recordCount() <= VERIFY_ON_START_MAX_RECORDS) yield* ledger.assertIntact()
  else
    yield* progress.line(
      `ledger ${ledger.file} holds ${ledger.store.recordCount()} records: not verified at start (run \`harness ledger verify\`)`
    )

  const stale = yield* ledger.markStaleJobs()
  if (stale > 0)
    yield* progress.line(`found ${stale} job(s) left running by a process that is gone; marked interrupted (their checkpoints resume)`)

  const runId = yield* beginSuiteRun({
    suite: options.suite.name,
    codeVersion: codeVersion(),
    git: gitFacts(),
    environment: environmentFingerprint(engine)
  })
  yield* progress.line(`run #${runId}: suite "${options.suite.name}", ${jobs.length} job(s) on ${describeEngine(engine)}`)

  let skipped = 0
  let done = 0
  let failed = 0
  const todo: Job[] = []
  for (const job of jobs) {
    const prior = options.force ? undefined : yield* findDone(job.key)
    if (prior) {
      skipped++
      yield* progress.line(
        `skip ${job.name}: already done (key ${job.key.slice(0, 12)}, job #${prior.jobId} in run #${prior.runId}); --force reruns it`
      )
    } else {
      if (options.force) clearCheckpoint(options.checkpointRoot, job.key)
      todo.push(job)
    }
  }

  const suiteStart = performance.now()
  const runJobs = Effect.gen(function* () {
    for (const [i, job] of todo.entries()) {
      const outcome = yield* runJob(job, { runId, checkpointRoot: options.checkpointRoot, index: i + 1, total: todo.length }).pipe(
        Effect.map(() => "done" as const),
        // a diverged job is recorded as failed and the suite goes on; a crash (JobCrashed) stops the suite
        Effect.catchIf(
          (e): e is TrainingDiverged => e instanceof TrainingDiverged,
          () => Effect.succeed("failed" as const)
        )
      )
      if (outcome === "done") done++
      else failed++
      const elapsed = (performance.now() - suiteStart) / 1000
      if (i + 1 < todo.length)
        yield* progress.line(
          `suite: ${i + 1}/${todo.length} jobs in ${formatDuration(elapsed)}, about ${formatDuration((elapsed / (i + 1)) * (todo.length - i - 1))} left`
        )
    }
  })
  // the run record is closed however the jobs end (done, crashed, interrupted)
  yield* runJobs.pipe(Effect.ensuring(ledger.finishRun(runId).pipe(Effect.ignore)))
  const table = yield* resultsTable(jobs)
  return { runId, planned: jobs.length, skipped, done, failed, table } satisfies RunSummary
})
