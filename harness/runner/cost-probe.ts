/**
 * What a job will cost, measured rather than guessed: the job's own model (its embedding, scale, batch and
 * lengths) on the engine the run would use, trained for a few steps and evaluated once per evaluation length
 * with a single window and a single passkey trial; the full job's time is then scaled from those by its real
 * step count, window counts and trial count. A FLOP count cannot see what dominates these small models (the
 * attention at 16x the training length, passkey decoding without a KV cache, FIRE's bias MLP), a probe does.
 *
 * Nothing is written: the model and its optimizer state are dropped, the ledger is not touched.
 */
import { Effect } from "effect"
import { canonicalJson } from "../../ledger/canonical.js"
import { windowStarts } from "../../models/eval/windows.js"
import { Trainer } from "../../models/train/index.js"
import type { JobConfig } from "../plan/job.js"
import { buildModel } from "./build-model.js"
import type { JobData } from "./corpus-service.js"
import { evaluateJob } from "./evaluate-job.js"

/** warm-up steps (kernel compilation, first allocations, V8 tiering up the JS kernels; not timed; the engine bench warms up 8 too), then steps timed one by one */
const WARMUP_STEPS = 8
const TIMED_STEPS = 5

export interface JobCost {
  readonly trainSeconds: number
  readonly evalSeconds: number
}

type Task = "perplexity" | "loss curve" | "passkey" | "spectrum" | "synthetic"
const taskOf = (what: string): Task | null =>
  what.startsWith("perplexity")
    ? "perplexity"
    : what.startsWith("loss curve")
      ? "loss curve"
      : what.startsWith("passkey")
        ? "passkey"
        : what.startsWith("spectrum")
          ? "spectrum"
          : what.startsWith("synthetic")
            ? "synthetic"
            : null

/** Seconds per task of one evaluation call, split at the runner's status lines (one per task). */
const timedEvaluation = async (run: (status: (what: string) => Effect.Effect<void>) => Promise<unknown>): Promise<Map<Task, number>> => {
  const out = new Map<Task, number>()
  let current: Task | null = null
  let since = performance.now()
  const close = () => {
    const now = performance.now()
    if (current) out.set(current, (out.get(current) ?? 0) + (now - since) / 1000)
    since = now
  }
  await run((what) =>
    Effect.sync(() => {
      close()
      current = taskOf(what)
    })
  )
  close()
  return out
}

export const probeJobCost = async (config: JobConfig, data: JobData): Promise<JobCost> => {
  const model = buildModel(config)
  let trainer: Trainer | undefined
  try {
    trainer = Trainer.create(model, data.train, config.training, config.seed, data.mixer)
    const warmup = Math.min(WARMUP_STEPS, config.training.steps)
    for (let i = 0; i < warmup; i++) await trainer.nextAsync()
    const steps = Math.min(TIMED_STEPS, config.training.steps - warmup)
    const times: number[] = []
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now()
      await trainer.nextAsync()
      times.push((performance.now() - t0) / 1000)
    }
    // the median step: one step slowed by another process on the machine must not scale to the whole job
    const perStep = times.length ? [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]! : 0
    const trainSeconds = perStep * config.training.steps

    const e = config.evaluation
    let evalSeconds = 0
    const maxLength = Math.max(...e.lengths)
    for (const length of e.lengths) {
      const once = { ...e, lengths: [length], maxWindows: 1, passkeyTrials: 1 }
      const evaluateOnce = () =>
        timedEvaluation((status) =>
          Effect.runPromise(
            evaluateJob(model, { evaluation: once, seed: config.seed, trainLength: config.model.trainLength }, data, status)
          )
        )
      // the first call at a length compiles its kernels and allocates its buffers, once per job: only the second
      // call is scaled by the job's window and trial counts (scaling the first over-estimated evaluation up to 6x)
      const first = await evaluateOnce()
      const times = await evaluateOnce()
      for (const [task, seconds] of first) evalSeconds += Math.max(0, seconds - (times.get(task) ?? 0))
      const windows = windowStarts(data.valid.length, length, { maxWindows: e.maxWindows }).length
      evalSeconds += (times.get("perplexity") ?? 0) * windows
      evalSeconds += (times.get("passkey") ?? 0) * e.passkeyTrials
      evalSeconds += (times.get("synthetic") ?? 0) * e.passkeyTrials // one example per variant and trial: linear in trials
      if (length === maxLength) {
        evalSeconds += (times.get("loss curve") ?? 0) * windows
        evalSeconds += times.get("spectrum") ?? 0
      }
    }
    return { trainSeconds, evalSeconds }
  } finally {
    trainer?.dispose()
    model.embedding.dispose()
    model.dispose()
  }
}

/**
 * The cell a probe stands for: the job without its seed (seeds cost the same) and without its suite's name (the
 * same model trained the same way costs the same in any suite). Canonical JSON: a config read back from the
 * ledger compares equal to the planned one whatever its key order.
 */
export const probeKey = (config: JobConfig): string => canonicalJson({ ...config, seed: 0, suite: "" })
