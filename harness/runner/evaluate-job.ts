/**
 * The evaluations a job asked for, at each evaluation length and under each inference-time extension, as
 * ledger metrics. Metric names carry the extension when there is one: `perplexity` (none), `perplexity@yarn`.
 * The evaluations are chunked and async (models/eval); the fiber's interruption reaches them through an
 * AbortSignal, checked between batches.
 */
import { Effect } from "effect"
import type { ExtensionSpec } from "../../embeddings/interface.js"
import type { Decoder } from "../../models/decoder.js"
import { lossCurve, passkeyAccuracy, perplexityByLength, spectrumDamage } from "../../models/eval/index.js"
import { syntheticAccuracy } from "../../models/eval/synthetic-accuracy.js"
import type { MetricRecord } from "../../ledger/types.js"
import type { Extension } from "../../suites/schema.js"
import type { ResolvedEvaluation } from "../plan/job.js"
import type { JobData } from "./corpus-service.js"

/** Metric-name suffix of an extension; llama3 names its settings when they are not the defaults ("@llama3-f8-1-4"). */
export const extensionTag = (e: Extension): string => {
  if (e.method === "none") return ""
  if (e.method === "yarn") return e.temperature === false ? "@yarn-notemp" : "@yarn"
  if (e.method === "llama3") {
    const given = e.factor !== undefined || e.lowFreqFactor !== undefined || e.highFreqFactor !== undefined
    return given ? `@llama3-f${e.factor ?? "s"}-${e.lowFreqFactor ?? 1}-${e.highFreqFactor ?? 4}` : "@llama3"
  }
  return `@${e.method}`
}

const toSpec = (e: Extension): ExtensionSpec =>
  e.method === "yarn" ? { method: "yarn", temperature: e.temperature ?? true } : e.method === "llama3" ? e : { method: e.method }

const tagged = (metrics: ReadonlyArray<MetricRecord>, tag: string): MetricRecord[] =>
  metrics.map((m) => ({ ...m, name: `${m.name}${tag}` }))

/** What an evaluation needs besides the model: the settings, the seed of its sampling, the training length. */
export interface EvaluationSettings {
  readonly evaluation: ResolvedEvaluation
  readonly seed: number
  readonly trainLength: number
}

export const evaluateJob = Effect.fn("evaluateJob")(function* (
  model: Decoder,
  settings: EvaluationSettings,
  data: JobData,
  status: (text: string) => Effect.Effect<void>
) {
  const e = settings.evaluation
  const metrics: MetricRecord[] = []
  const rotary = model.embedding.family === "rotary"
  const run = <A>(what: string, f: (signal: AbortSignal) => Promise<A>) =>
    status(what).pipe(Effect.andThen(Effect.tryPromise({ try: f, catch: (err) => err as Error })))

  if (e.tasks.includes("perplexity")) {
    for (const ext of e.extensions) {
      if (ext.method !== "none" && !rotary) continue // inference-time extensions belong to the rotary family
      const tag = extensionTag(ext)
      const result = yield* run(`perplexity${tag} at ${e.lengths.join(", ")}`, (signal) =>
        perplexityByLength(model, data.valid, e.lengths, {
          maxWindows: e.maxWindows,
          signal,
          ...(ext.method === "none" ? {} : { embedding: (length: number) => model.embedding.extend(toSpec(ext), length) })
        })
      )
      metrics.push(...tagged(result.metrics, tag))
    }
  }
  if (e.tasks.includes("loss-curve")) {
    const length = Math.max(...e.lengths)
    const { curve } = yield* run(`loss curve at ${length}`, (signal) =>
      lossCurve(model, data.valid, length, e.lossBuckets, { maxWindows: e.maxWindows, signal })
    )
    if (curve.applicable) {
      for (const b of curve.buckets)
        metrics.push({ name: `loss_at_position_${b.from}`, value: b.loss, unit: "nats/token", better: "lower", length })
    }
  }
  if (e.tasks.includes("passkey")) {
    const result = yield* run(`passkey at ${e.lengths.join(", ")}`, () =>
      passkeyAccuracy(model, data.corpus.tokenizer, e.lengths, { trials: e.passkeyTrials, seed: settings.seed })
    )
    metrics.push(...result.metrics)
  }
  if (e.tasks.includes("synthetic")) {
    const tasks = data.synthetic
    if (tasks === undefined)
      throw new Error('the evaluation task "synthetic" needs data.synthetic (the tasks the model was trained on) in the suite')
    for (const task of tasks) {
      const result = yield* run(`synthetic ${task} at ${e.lengths.join(", ")}`, (signal) =>
        syntheticAccuracy(model, task, e.lengths, { trials: e.passkeyTrials, seed: settings.seed, signal })
      )
      metrics.push(...result.metrics)
    }
  }
  if (e.tasks.includes("spectrum") && rotary) {
    const result = yield* run("spectrum analysis", (signal) => spectrumDamage(model, data.valid, settings.trainLength, { signal }))
    metrics.push(...result.metrics)
  }
  return { metrics }
})
