/**
 * Each job's training step planned against the engine's memory (models/engine/memory-plan.ts) before anything is
 * built: the plan is printed where it matters (a GPU engine, or a step that had to be split), and a step that
 * cannot fit refuses the run with the bytes needed and available.
 */
import { Effect } from "effect"
import type { EngineInfo } from "../../models/engine/backend.js"
import {
  describeMemoryPlan,
  isPlainPlan,
  memoryLimits,
  planStepMemory,
  type MemoryPlan,
  type StepShape
} from "../../models/engine/memory-plan.js"
import type { StepExecution } from "../../models/train/trainer.js"
import { JobRefused } from "../errors.js"
import type { Job } from "../plan/job.js"
import { Progress } from "./progress.js"

export const jobStepShape = (job: Job): StepShape => {
  const m = job.config.model
  const t = job.config.training
  return {
    vocabSize: m.vocabSize,
    dModel: m.dModel,
    heads: m.heads,
    layers: m.layers,
    ffnHidden: m.ffnHidden,
    batchSize: t.batchSize,
    seqLength: t.seqLength
  }
}

/** The job's plan on this engine; null where the engine is not planned (the plain step runs). Throws MemoryPlanError. */
export const jobMemoryPlan = (job: Job, engine: Pick<EngineInfo, "backend" | "webgpu">): MemoryPlan | null => {
  const limits = memoryLimits(engine)
  return limits === null ? null : planStepMemory(jobStepShape(job), limits)
}

/** How the Trainer computes the planned step (nothing: the plain step). */
export const stepExecution = (plan: MemoryPlan | null): StepExecution =>
  plan === null || isPlainPlan(plan)
    ? {}
    : { microBatches: plan.microBatches, ...(plan.lossChunk !== undefined ? { lossChunk: plan.lossChunk } : {}) }

/** Plans every distinct step shape of the run; prints the plans that matter; fails with JobRefused when one cannot fit. */
export const planJobsMemory = Effect.fn("planJobsMemory")(function* (jobs: ReadonlyArray<Job>, engine: EngineInfo) {
  const progress = yield* Progress
  const seen = new Set<string>()
  for (const job of jobs) {
    const shape = jobStepShape(job)
    const id = JSON.stringify(shape)
    if (seen.has(id)) continue
    seen.add(id)
    const plan = yield* Effect.try({
      try: () => jobMemoryPlan(job, engine),
      catch: (e) => new JobRefused({ message: `${job.name}: ${(e as Error).message}` })
    })
    if (plan !== null && (engine.backend === "webgpu" || !isPlainPlan(plan)))
      yield* progress.line(`${job.config.model.scale}: ${describeMemoryPlan(plan, shape)}`)
  }
})
