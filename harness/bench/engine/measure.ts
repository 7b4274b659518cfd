/**
 * The child side of the engine benchmark: measures one variant in this process (measureVariant) — the reference
 * model's training and evaluation, float32 matmul GFLOP/s, peak RSS, and on request the embedding comparison, a
 * 16x-length evaluation and the harness's decoder at the CPU scales.
 */
import * as fs from "node:fs"
import * as tf from "@tensorflow/tfjs"
import { SeededRandom } from "../../../embeddings/seeded-random.js"
import { createEmbedding } from "../../../embeddings/registry.js"
import { Decoder } from "../../../models/decoder.js"
import { describeEngine, initEngine } from "../../../models/engine/backend.js"
import {
  REFERENCE_MODEL,
  ReferenceModel,
  referenceBatch,
  trainStepFlops,
  type ReferenceModelConfig
} from "../../../models/engine/reference-model.js"
import { resolveScale } from "../../../models/scales.js"
import { AdamW } from "../../../models/train/adamw.js"
import { Trainer } from "../../../models/train/trainer.js"
import { trainSpec } from "../../../models/train/spec.js"
import {
  BENCH_SCALES,
  BENCH_VARIANTS,
  SCALE_BATCH,
  SCALE_LENGTH,
  type ChildRequest,
  type ScaleMeasurement,
  type VariantResult
} from "./variants.js"

export const loadavg = (): string => {
  try {
    return fs.readFileSync("/proc/loadavg", "utf8").trim()
  } catch {
    return "unavailable"
  }
}

export const now = (): number => performance.now() / 1000

/**
 * GFLOP/s of an n^3 float32 matmul (2 n^3 FLOP), each product read back so the work is finished: the fastest of
 * `windows` timing windows of `reps` products, as the sgemm peer measures its ceiling.
 */
const matmulGflops = async (n: number, reps: number, windows = 3): Promise<number> => {
  const rng = SeededRandom.create(n, "engine/bench/matmul")
  const a = tf.tensor2d(
    rng.fill(n * n, (r) => r.uniformIn(-1, 1)),
    [n, n]
  )
  const b = tf.tensor2d(
    rng.fill(n * n, (r) => r.uniformIn(-1, 1)),
    [n, n]
  )
  // read back asynchronously: a GPU backend in Node has no synchronous read (the same work on the CPU backends)
  const once = async () => {
    const c = tf.matMul(a, b)
    await c.data()
    c.dispose()
  }
  await once() // warm-up (XNNPACK operator creation, heap growth, shader compilation)
  let seconds = Infinity
  for (let w = 0; w < windows; w++) {
    const t0 = now()
    for (let i = 0; i < reps; i++) await once()
    seconds = Math.min(seconds, now() - t0)
  }
  tf.dispose([a, b])
  return (2 * n ** 3 * reps) / seconds / 1e9
}

interface TrainMeasurement {
  readonly secondsPerStep: number
  readonly finalLoss: number
  readonly tensorsConstant: boolean
  readonly evalTokensPerSecond: number
}

const measureTraining = async (
  config: ReferenceModelConfig,
  warmup: number,
  steps: number,
  evalSteps: number
): Promise<TrainMeasurement> => {
  const model = ReferenceModel.create(config, 1)
  const rng = SeededRandom.create(1, "engine/bench/data")
  // The harness's own optimizer (models/train/adamw.ts) with PyTorch Adam's defaults and no decay: what the peer
  // runs (torch.optim.Adam, lr 1e-3). On tuned wasm it runs as one fused kernel per parameter.
  const variables = model.variables
  const optimizer = new AdamW(
    variables.map((variable) => ({ name: variable.name, variable, decay: false })),
    { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }
  )
  const step = async (): Promise<number> => {
    const tokens = referenceBatch(rng, config)
    const { value, grads } = tf.variableGrads(() => model.loss(tokens), variables)
    optimizer.apply(
      variables.map((v) => grads[v.name]!),
      1e-3,
      1
    )
    const loss = (await value.data())[0]!
    tf.dispose([value, tokens, ...Object.values(grads)])
    return loss
  }
  for (let i = 0; i < warmup; i++) await step()
  const counts: number[] = []
  let loss = NaN
  const t0 = now()
  for (let i = 0; i < steps; i++) {
    loss = await step()
    counts.push(tf.memory().numTensors)
  }
  const secondsPerStep = (now() - t0) / steps
  // Evaluation: forward only (the loss), no tape.
  const forward = async () => {
    const tokens = referenceBatch(rng, config)
    const l = model.loss(tokens)
    await l.data()
    tf.dispose([l, tokens])
  }
  await forward()
  const e0 = now()
  for (let i = 0; i < evalSteps; i++) await forward()
  const evalTokensPerSecond = (config.batch * config.seqLength * evalSteps) / (now() - e0)
  optimizer.dispose()
  model.dispose()
  return { secondsPerStep, finalLoss: loss, tensorsConstant: new Set(counts).size <= 1, evalTokensPerSecond }
}

/**
 * Training and evaluation tokens/s of the harness's decoder (models/decoder.ts, RoPE, byte vocabulary 256) at each
 * CPU scale, trained by its Trainer (AdamW, clipping, schedule) on batch 8 x 128 tokens of seeded bytes (speed does
 * not depend on the data). `steps` timed after 3 warm-up steps; evaluation: forward-only loss on the same shape.
 */
const measureScales = async (steps: number, scales: ReadonlyArray<string>): Promise<ScaleMeasurement[]> => {
  const out: ScaleMeasurement[] = []
  for (const name of scales) {
    const s = resolveScale(name)
    const dims = { dModel: s.dModel, heads: s.heads, headDim: s.dModel / s.heads, layers: s.layers, trainLength: SCALE_LENGTH }
    const model = Decoder.create(
      { vocabSize: 256, dModel: s.dModel, heads: s.heads, layers: s.layers, ffnHidden: s.ffnHidden, trainLength: SCALE_LENGTH },
      createEmbedding({ name: "rope", params: {} }, dims, 1),
      1
    )
    const rng = SeededRandom.create(1, `engine/bench/scale/${name}`)
    const data = Int32Array.from(rng.fill(200_000, (r) => r.int(256)))
    const warmup = 3
    const trainer = Trainer.create(
      model,
      data,
      trainSpec({ steps: warmup + steps, batchSize: SCALE_BATCH, seqLength: SCALE_LENGTH, learningRate: 1e-3, warmupSteps: 1 }),
      1
    )
    for (let i = 0; i < warmup; i++) await trainer.nextAsync()
    const t0 = now()
    for (let i = 0; i < steps; i++) await trainer.nextAsync()
    const secondsPerStep = (now() - t0) / steps
    const batch = tf.tensor2d(data.subarray(0, SCALE_BATCH * (SCALE_LENGTH + 1)), [SCALE_BATCH, SCALE_LENGTH + 1], "int32")
    const forward = async () => {
      const l = model.loss(batch)
      await l.data()
      l.dispose()
    }
    await forward()
    const e0 = now()
    for (let i = 0; i < steps; i++) await forward()
    const evalSeconds = (now() - e0) / steps
    batch.dispose()
    trainer.dispose()
    model.dispose()
    const tokens = SCALE_BATCH * SCALE_LENGTH
    out.push({
      scale: name,
      steps,
      secondsPerStep,
      trainTokensPerSecond: tokens / secondsPerStep,
      evalTokensPerSecond: tokens / evalSeconds
    })
  }
  return out
}

/** Runs one variant in this process (the child side); returns its result. */
export const measureVariant = async (request: ChildRequest): Promise<VariantResult> => {
  const spec = BENCH_VARIANTS.find((v) => v.name === request.variant)
  if (spec === undefined) throw new Error(`unknown variant ${request.variant}`)
  const loadavgBefore = loadavg()
  const info = await initEngine({ backend: spec.backend, threads: spec.threads, tuned: spec.tuned, native: spec.native ?? false })
  if (spec.native === true && info.native === undefined) throw new Error(`no native products: ${(info.notes ?? []).join("; ")}`)
  const steps = Math.max(1, Math.round(request.steps * spec.stepsFactor))
  const slow = spec.stepsFactor < 1
  const t = await measureTraining(REFERENCE_MODEL, spec.warmup, steps, slow ? steps : Math.max(3, steps))
  const reps = spec.backend === "cpu" ? [1, 1] : slow ? [4, 2] : [10, 3]
  const windows = spec.backend === "cpu" || slow ? 1 : 3 // cpu: one 1024^3 product takes seconds
  const matmulGflops512 = await matmulGflops(512, reps[0], windows)
  const matmulGflops1024 = await matmulGflops(1024, reps[1], windows)
  const peakRssMiB = process.resourceUsage().maxRSS / 1024 // KiB -> MiB; before the extra measurements below
  let embedding: VariantResult["embedding"]
  if (request.embeddingComparison) {
    const n = Math.max(2, Math.round(steps / 2))
    const gather = await measureTraining({ ...REFERENCE_MODEL, vocab: 256, embedding: "gather" }, 1, n, 0)
    const onehot = await measureTraining({ ...REFERENCE_MODEL, vocab: 256, embedding: "onehot" }, 1, n, 0)
    embedding = { vocab: 256, gatherSecondsPerStep: gather.secondsPerStep, onehotSecondsPerStep: onehot.secondsPerStep }
  }
  const rssBeforeLong = process.resourceUsage().maxRSS / 1024 // the long evaluation runs next: its peak is the rise
  const longEval = request.embeddingComparison ? await measureLongEvaluation(REFERENCE_MODEL, 16, 256) : undefined
  const rssAfterLong = process.resourceUsage().maxRSS / 1024
  // CPU scales, last (mini's activations raise the peak RSS): all of them on the fast variants, nano alone (one
  // step) on the slow ones
  const scales =
    request.scales === true ? await measureScales(slow ? 1 : Math.max(2, Math.round(steps / 2)), slow ? ["nano"] : BENCH_SCALES) : undefined
  const tokens = REFERENCE_MODEL.batch * REFERENCE_MODEL.seqLength
  return {
    variant: spec.name,
    ok: true,
    engine: describeEngine(info),
    threads: info.threads,
    steps,
    secondsPerStep: t.secondsPerStep,
    trainTokensPerSecond: tokens / t.secondsPerStep,
    trainGflops: trainStepFlops(REFERENCE_MODEL) / t.secondsPerStep / 1e9,
    evalTokensPerSecond: t.evalTokensPerSecond,
    matmulGflops512,
    matmulGflops1024,
    peakRssMiB,
    finalLoss: t.finalLoss,
    tensorsConstant: t.tensorsConstant,
    loadavgBefore,
    loadavgAfter: loadavg(),
    ...(embedding !== undefined ? { embedding } : {}),
    ...(scales !== undefined ? { scales } : {}),
    ...(longEval !== undefined ? { longEval: { ...longEval, peakRssBeforeMiB: rssBeforeLong, peakRssAfterMiB: rssAfterLong } } : {})
  }
}

/**
 * Evaluation at `factor` x the training length: one sequence, forward only, attention in query blocks
 * of `queryChunk` rows (reference-model.ts), so memory grows with chunk x length rather than length^2.
 */
const measureLongEvaluation = async (config: ReferenceModelConfig, factor: number, queryChunk: number) => {
  const length = factor * config.seqLength
  const c = { ...config, batch: 1 }
  const model = ReferenceModel.create(c, 1)
  const rng = SeededRandom.create(1, "engine/bench/long-eval")
  const forward = async (): Promise<number> => {
    const tokens = referenceBatch(rng, c, length)
    const l = model.loss(tokens, { queryChunk })
    const v = (await l.data())[0]!
    tf.dispose([l, tokens])
    return v
  }
  await forward()
  const reps = 2
  const t0 = now()
  let loss = NaN
  for (let i = 0; i < reps; i++) loss = await forward()
  const seconds = (now() - t0) / reps
  model.dispose()
  return { length, queryChunk, tokensPerSecond: length / seconds, loss }
}
