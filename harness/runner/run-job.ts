/**
 * One job, start to finish: build the model, train it (resuming from its checkpoint when one exists),
 * evaluate it, and record everything in the ledger in one transaction.
 *
 * Tensor math stays plain synchronous tfjs inside a step; between steps the loop yields to the event loop,
 * so Ctrl-C (SIGINT) interrupts the fiber there: the interruption handler checkpoints the trainer and marks
 * the job interrupted, and the next `harness run` resumes from that checkpoint. A NaN/Inf loss stops the job,
 * recorded as failed with its step; the model and the ledger are left intact.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Cause, Effect } from "effect"
import type { Decoder } from "../../models/decoder.js"
import { NonFiniteLossError, Trainer, type StepResult } from "../../models/train/index.js"
import { readTrainingTiming } from "../../models/checkpoint/checkpoint.js"
import type { MetricRecord } from "../../ledger/types.js"
import type { Job } from "../plan/job.js"
import { JobCrashed, TrainingDiverged } from "../errors.js"
import { buildModel } from "./build-model.js"
import { CorpusService } from "./corpus-service.js"
import { Engine } from "./engine-service.js"
import { evaluateJob } from "./evaluate-job.js"
import { Ledger } from "../../ledger/service.js"
import { startOrResumeJob } from "./job-records.js"
import { jobMemoryPlan, stepExecution } from "./step-memory.js"
import { Progress, formatDuration } from "./progress.js"

export interface JobContext {
  readonly runId: string
  /** where checkpoints live: <checkpointRoot>/<key prefix>/ */
  readonly checkpointRoot: string
  /** position of this job in the suite, for progress lines */
  readonly index: number
  readonly total: number
}

/** Suite ETA from inside a job: this job's remaining time, plus the jobs after it at this job's pace. */
const suiteEta = (ctx: JobContext, jobElapsed: number, jobEta: number): number => jobEta + (ctx.total - ctx.index) * (jobElapsed + jobEta)

export interface JobOutcome {
  readonly status: "done" | "failed"
  readonly metrics: ReadonlyArray<MetricRecord>
  readonly resumedFrom: number | null
  /** the whole training time; undefined when resumed from a checkpoint saved without its training time */
  readonly trainSeconds: number | undefined
  readonly evalSeconds: number
}

/** Yield to the macrotask queue so that signal handlers (SIGINT) run between steps. */
const yieldToEventLoop = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * Relative tolerance a rerun must meet on a backend that is not bitwise deterministic. Backends agree to about
 * 4 decimals on the loss (engine-facts.md), so 1e-3 relative leaves room without hiding a real change.
 */
export const REPRODUCE_TOLERANCE = 1e-3

/** What a crash means for the user: the wasm runtime's bare "Aborted()" is almost always its 4 GB heap running out. */
export const explainCrash = (e: unknown, job: Job): string => {
  const message = e instanceof Error ? e.message : String(e)
  if (!/Aborted\(|out of memory|Cannot enlarge memory|RangeError: Array buffer allocation/i.test(message)) return message
  const c = job.config
  const logitsGiB = (c.training.batchSize * c.training.seqLength * c.model.vocabSize * 4) / 2 ** 30
  return (
    `the tensor engine ran out of memory (${message.split(".")[0]}): the wasm heap is limited to 4 GiB, and one step of this job ` +
    `holds ${logitsGiB.toFixed(1)} GiB of logits alone (batch ${c.training.batchSize} x ${c.training.seqLength} tokens x vocabulary ${c.model.vocabSize}) ` +
    `plus activations. Use a GPU backend (@tensorflow/tfjs-node-gpu), or a smaller batch, length or vocabulary (the byte tokenizer).`
  )
}

const evalThroughput = (metrics: ReadonlyArray<MetricRecord>, seconds: number): MetricRecord[] => {
  const tokens = metrics.filter((m) => m.name.startsWith("eval_tokens")).reduce((a, m) => a + m.value, 0)
  return tokens > 0 && seconds > 0 ? [{ name: "eval_tokens_per_s", value: tokens / seconds, unit: "tokens/s", better: "higher" }] : []
}

/**
 * One optimizer step; a NaN/Inf loss is TrainingDiverged, anything else thrown is JobCrashed (with an explanation).
 * The loss is read back asynchronously (a GPU backend in Node has no synchronous read); same bits as a sync read.
 */
const stepOnce = (trainer: Trainer, job: Job): Effect.Effect<StepResult, TrainingDiverged | JobCrashed> =>
  // uninterruptible: an interrupt waits for the step to finish (the loop yields between steps), so a checkpoint
  // never sees a step half made (its batch drawn, its update not applied)
  Effect.uninterruptible(
    Effect.tryPromise({
      try: () => trainer.nextAsync(),
      catch: (e) =>
        e instanceof NonFiniteLossError
          ? new TrainingDiverged({ message: e.message, step: e.step })
          : new JobCrashed({ message: explainCrash(e, job), step: trainer.step })
    })
  )

/** A checkpoint, its tensors read back asynchronously first (see Trainer.checkpointAsync); never cut off midway. */
const checkpointOnce = (trainer: Trainer, dir: string, timing: TrainingClock) =>
  Effect.uninterruptible(Effect.promise(() => trainer.checkpointAsync(dir, timing.soFar())))

/**
 * Training time across sessions: what the checkpoint carried in (unknown for a checkpoint saved without it) plus this
 * session's training, evaluation excluded. Saved with every checkpoint, so Ctrl-C + resume and a job restored from
 * an existing final checkpoint record the whole time.
 */
class TrainingClock {
  private start = performance.now()
  private end: number | undefined
  steps = 0
  constructor(readonly before: { readonly trainSeconds: number; readonly sessions: number } | undefined) {}
  begin(): void {
    this.start = performance.now()
    this.end = undefined
  }
  stop(): void {
    this.end ??= performance.now()
  }
  get sessionSeconds(): number {
    return ((this.end ?? performance.now()) - this.start) / 1000
  }
  /** the whole training time, when the time before this session is known */
  get totalSeconds(): number | undefined {
    return this.before === undefined ? undefined : this.before.trainSeconds + this.sessionSeconds
  }
  soFar(): { trainSeconds: number; sessions: number } | undefined {
    const total = this.totalSeconds
    return total === undefined ? undefined : { trainSeconds: total, sessions: this.before!.sessions + (this.steps > 0 ? 1 : 0) }
  }
}

export const checkpointDirectory = (root: string, key: string): string => join(root, key.slice(0, 24))

export const runJob = Effect.fn("runJob")(function* (job: Job, ctx: JobContext) {
  const ledger = yield* Ledger
  const progress = yield* Progress
  const engine = yield* Engine
  const corpus = yield* CorpusService
  const data = yield* corpus.load(job.config.data)
  if (data.hash !== job.config.data.contentHash) {
    // the key promised one dataset; training on another would record a result under the wrong key
    return yield* new JobCrashed({
      message: `the data of ${job.name} changed since the plan was made (content hash ${data.hash.slice(0, 12)}, planned ${job.config.data.contentHash.slice(0, 12)}); run the command again to re-plan`,
      step: 0
    })
  }
  const dir = checkpointDirectory(ctx.checkpointRoot, job.key)
  const resuming = existsSync(join(dir, "manifest.json"))
  const jobId = yield* startOrResumeJob(ctx.runId, job, resuming)
  const tag = `[${ctx.index}/${ctx.total}] ${job.name}`

  const t = job.config.training
  // micro-batches and a chunked loss where the engine's memory needs them (checked before the run started)
  const execution = stepExecution(jobMemoryPlan(job, engine))
  // the model and its trainer (AdamW moments) live exactly as long as the job: released however it ends
  const acquire = Effect.promise(async () => {
    const model = buildModel(job.config)
    try {
      const trainer = resuming
        ? await Trainer.resumeAsync(dir, model, data.train, data.mixer, execution)
        : Trainer.create(model, data.train, t, job.config.seed, data.mixer, execution)
      return { model, trainer }
    } catch (e) {
      model.embedding.dispose()
      model.dispose()
      throw e
    }
  })
  const release = ({ model, trainer }: { model: Decoder; trainer: Trainer }) =>
    Effect.sync(() => {
      trainer.dispose()
      model.embedding.dispose()
      model.dispose()
    })

  return yield* Effect.acquireUseRelease(
    acquire,
    ({ model, trainer }) => {
      const resumedFrom = resuming ? trainer.step : null
      const clock = new TrainingClock(resuming ? readTrainingTiming(dir) : { trainSeconds: 0, sessions: 0 })
      const body = Effect.gen(function* () {
        if (resumedFrom !== null) yield* progress.line(`${tag}: resuming from the checkpoint at step ${resumedFrom}/${t.steps}`)
        mkdirSync(dir, { recursive: true })

        clock.begin()
        let tokens = 0
        while (!trainer.done) {
          const r = yield* stepOnce(trainer, job)
          tokens += r.tokens
          clock.steps++
          const elapsed = clock.sessionSeconds
          const eta = (t.steps - r.step) * (elapsed / clock.steps)
          const suite = ctx.total > 1 ? `  suite ETA ${formatDuration(suiteEta(ctx, elapsed, eta))}` : ""
          yield* progress.status(
            `${tag}  step ${r.step}/${t.steps}  loss ${r.loss.toFixed(4)}  ${Math.round(tokens / elapsed)} tok/s  ETA ${formatDuration(eta)}${suite}`
          )
          if (r.step % t.checkpointEvery === 0 && !trainer.done) yield* checkpointOnce(trainer, dir, clock)
          yield* yieldToEventLoop
        }
        clock.stop()
        const sessionSeconds = clock.sessionSeconds
        const trainSeconds = clock.totalSeconds
        const restored = resumedFrom !== null && clock.steps === 0
        const lastLoss = trainer.history.at(-1)?.loss ?? Number.NaN
        const finalCheckpoint = yield* checkpointOnce(trainer, dir, clock)
        const took = trainSeconds === undefined ? "an unknown time (its checkpoint carries no training time)" : formatDuration(trainSeconds)
        yield* progress.line(
          restored
            ? `${tag}: restored from its final checkpoint (${t.steps} steps, trained in ${took}), final loss ${lastLoss.toFixed(4)}; evaluating`
            : `${tag}: trained ${t.steps} steps in ${took}${resumedFrom !== null ? ` (resumed at step ${resumedFrom})` : ""}, final loss ${lastLoss.toFixed(4)}; evaluating`
        )

        const evalStart = performance.now()
        const evaluation = yield* evaluateJob(
          model,
          { evaluation: job.config.evaluation, seed: job.config.seed, trainLength: job.config.model.trainLength },
          data,
          (text) => progress.status(`${tag}  ${text}`)
        ).pipe(Effect.mapError((e) => new JobCrashed({ message: `evaluation failed: ${explainCrash(e, job)}`, step: trainer.step })))
        const evalSeconds = (performance.now() - evalStart) / 1000

        const metrics: MetricRecord[] = [
          ...evaluation.metrics,
          { name: "train_loss_final", value: lastLoss, unit: "nats", better: "lower", length: t.seqLength, step: t.steps },
          // the whole job's rate when its whole training time is known (resumed or restored included), else this session's
          ...(resumedFrom !== null && trainSeconds !== undefined && trainSeconds > 0
            ? [
                {
                  name: "train_tokens_per_s",
                  value: (t.steps * t.batchSize * t.seqLength) / trainSeconds,
                  unit: "tokens/s",
                  better: "higher" as const
                }
              ]
            : tokens > 0
              ? [{ name: "train_tokens_per_s", value: tokens / sessionSeconds, unit: "tokens/s", better: "higher" as const }]
              : []),
          // unknown only for a checkpoint saved without its training time: recorded as missing rather than as this session's
          ...(trainSeconds !== undefined ? [{ name: "train_seconds", value: trainSeconds, unit: "s", better: "lower" as const }] : []),
          { name: "eval_seconds", value: evalSeconds, unit: "s", better: "lower" },
          // evaluation throughput over every evaluated token (all lengths and extensions), and the process's peak memory
          ...evalThroughput(evaluation.metrics, evalSeconds),
          { name: "peak_rss_mb", value: process.resourceUsage().maxRSS / 1024, unit: "MB", better: "lower" },
          { name: "trained_tokens", value: t.steps * t.batchSize * t.seqLength, unit: "tokens", better: "none" },
          // the training curve, sampled at about 50 points (the last step always): what `reproduce` compares step by step
          ...trainer.history
            .filter((l) => l.step % Math.max(1, Math.floor(t.steps / 50)) === 0 || l.step === t.steps)
            .map((l): MetricRecord => ({ name: "train_loss", value: l.loss, unit: "nats", better: "lower", step: l.step }))
        ]
        yield* ledger.completeJob(jobId, {
          metrics,
          artifacts: [{ kind: "checkpoint", path: finalCheckpoint.path, sha256: finalCheckpoint.sha256 }],
          // a resumed or restored job says so: the step it continued from, this session's share, and restored = 1
          timings: {
            ...(trainSeconds !== undefined ? { train: trainSeconds } : {}),
            eval: evalSeconds,
            ...(resumedFrom !== null
              ? { resumedFromStep: resumedFrom, trainThisSession: sessionSeconds, sessions: clock.soFar()?.sessions ?? 0 }
              : {}),
            ...(restored ? { restoredFromFinalCheckpoint: 1 } : {})
          },
          reproducibility: engine.deterministic ? { mode: "bitwise" } : { mode: "tolerance", tolerance: REPRODUCE_TOLERANCE }
        })
        yield* progress.line(
          `${tag}: done (train ${trainSeconds === undefined ? "unknown" : formatDuration(trainSeconds)}, eval ${formatDuration(evalSeconds)})`
        )
        return { status: "done", metrics, resumedFrom, trainSeconds, evalSeconds } satisfies JobOutcome
      })
      return body.pipe(
        // Ctrl-C, in training or in evaluation: checkpoint, mark the job interrupted; the same command resumes it
        Effect.onInterrupt(() =>
          Effect.gen(function* () {
            clock.stop()
            const saved = yield* checkpointOnce(trainer, dir, clock)
            yield* ledger.interruptJob(jobId, { step: trainer.step, checkpoint: saved.path })
            yield* progress.line(
              `${tag}: interrupted at step ${trainer.step}; checkpoint saved (${saved.sha256.slice(0, 12)}). Run the same command again to resume.`
            )
          }).pipe(Effect.orDie)
        ),
        // any failure (a diverged loss, a crash, a failed evaluation) is recorded with its step before it propagates
        Effect.tapCause((cause) => {
          if (Cause.hasInterruptsOnly(cause)) return Effect.void
          const e = Cause.squash(cause)
          const step = e instanceof TrainingDiverged || e instanceof JobCrashed ? e.step : trainer.step
          const message = e instanceof Error ? e.message : String(e)
          return ledger
            .failJob(jobId, { error: message, step })
            .pipe(Effect.andThen(progress.line(`${tag}: FAILED at step ${step}: ${message}`)), Effect.ignore)
        })
      )
    },
    release
  )
})

/** Removes a job's checkpoints (after `--force`, a fresh start must not resume an old run). */
export const clearCheckpoint = (root: string, key: string): void => rmSync(checkpointDirectory(root, key), { recursive: true, force: true })
