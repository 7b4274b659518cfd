/**
 * The WebGPU engine checked against tfjs's cpu backend on the adapter in use: every position embedding's hooks,
 * the decoder's forward pass, one full training step. Small shapes, so that it runs in seconds on a software
 * adapter. Used by the test suite and by `harness doctor --parity` (a GPU machine has no test runner).
 *
 * Tolerances (float32 on both sides; a GPU orders its sums differently and evaluates sin/cos/exp its own way):
 *   hooks and logits: max |gpu - cpu| <= 1e-4 x max(1, max |cpu|)
 *   one training step: loss to 1e-5 relative, gradient norm to 1e-4, every parameter after the AdamW update to
 *   1e-4 x max(1, max |parameter|) (AdamW divides by sqrt(v), so tiny gradients may round to other updates).
 */
import * as tf from "@tensorflow/tfjs"
import type { EmbeddingShape } from "../../embeddings/interface.js"
import { EMBEDDINGS, createEmbedding } from "../../embeddings/registry.js"
import { SeededRandom } from "../../embeddings/seeded-random.js"
import { Decoder, type DecoderConfig } from "../decoder.js"
import { Trainer } from "../train/trainer.js"
import { trainSpec } from "../train/spec.js"
import { initEngine } from "./backend.js"

export interface ParityCheck {
  readonly what: string
  /** max |gpu - cpu| / max(1, max |cpu|), or the relative difference of a scalar */
  readonly error: number
  readonly tolerance: number
  readonly ok: boolean
}

export const HOOK_TOLERANCE = 1e-4
export const LOGITS_TOLERANCE = 1e-4
export const STEP_TOLERANCE = { loss: 1e-5, gradNorm: 1e-4, parameters: 1e-4 } as const
/** Embeddings whose full training step is compared (the decoder forward is compared for every embedding). */
export const STEP_EMBEDDINGS = ["rope", "fope"] as const

const config: DecoderConfig = { vocabSize: 64, dModel: 32, heads: 2, layers: 2, ffnHidden: 64, trainLength: 16 }
const shape: EmbeddingShape = { dModel: 32, heads: 2, headDim: 16, layers: 2, trainLength: 16 }
const T = 16

const read = async (t: tf.Tensor): Promise<Float32Array> => Float32Array.from((await t.data()) as Float32Array)

export const worstRelative = (got: Float32Array, want: Float32Array): number => {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY
  let scale = 1
  let worst = 0
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!))
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!))
  }
  return worst / scale
}

const check = (what: string, error: number, tolerance: number): ParityCheck => ({ what, error, tolerance, ok: error <= tolerance })

const seeded = (dims: [number, number, number, number], purpose: string): tf.Tensor4D =>
  tf.tensor(
    SeededRandom.create(7, purpose).fill(
      dims.reduce((a, b) => a * b, 1),
      (r) => r.normal()
    ),
    dims,
    "float32"
  ) as tf.Tensor4D

/** Every hook output of one embedding at T positions, both layers, read back. */
const hookOutputs = async (name: string): Promise<Map<string, Float32Array>> => {
  const e = createEmbedding({ name }, shape, 3)
  const out = new Map<string, Float32Array>()
  const q = seeded([2, shape.heads, T, shape.headDim], "q")
  const k = seeded([2, shape.heads, T, shape.headDim], "k")
  if (e.input) out.set("input", await read(e.input(T)))
  for (let layer = 0; layer < shape.layers; layer++) {
    if (e.queryKey) {
      const [qq, kk] = e.queryKey(q, k, layer)
      out.set(`queryKey.q.${layer}`, await read(qq))
      out.set(`queryKey.k.${layer}`, await read(kk))
    }
    if (e.scoreBias) out.set(`scoreBias.${layer}`, await read(e.scoreBias(T, layer)))
  }
  e.dispose()
  tf.dispose([q, k])
  return out
}

const logitsOf = async (name: string): Promise<Float32Array> => {
  const model = Decoder.create(config, createEmbedding({ name }, shape, 3), 5)
  const tokens = tf.tensor2d(
    Int32Array.from({ length: 2 * T }, (_, i) => (i * 37 + 11) % config.vocabSize),
    [2, T],
    "int32"
  )
  const logits = await read(model.logits(tokens))
  model.embedding.dispose()
  model.dispose()
  return logits
}

const stepData = Int32Array.from(
  new TextEncoder().encode("the quick brown fox jumps over the lazy dog. ".repeat(40)),
  (b) => b % config.vocabSize
)

const oneStep = async (name: string) => {
  const model = Decoder.create(config, createEmbedding({ name }, shape, 3), 5)
  const trainer = Trainer.create(
    model,
    stepData,
    trainSpec({ steps: 1, batchSize: 4, seqLength: T, learningRate: 3e-3, warmupSteps: 1 }),
    0
  )
  const result = await trainer.nextAsync()
  const weights = await Promise.all(model.trainableVariables.map(read))
  trainer.dispose()
  model.embedding.dispose()
  model.dispose()
  return { result, weights }
}

/** Runs `compute` on cpu, then on webgpu; leaves the process on webgpu. */
const onBoth = async <A>(compute: () => Promise<A>): Promise<{ cpu: A; gpu: A }> => {
  await initEngine({ backend: "cpu" })
  const cpu = await compute()
  await initEngine({ backend: "webgpu" })
  return { cpu, gpu: await compute() }
}

export const hookParity = async (name: string): Promise<ParityCheck[]> => {
  const { cpu, gpu } = await onBoth(() => hookOutputs(name))
  const keys = [...cpu.keys()]
  if (keys.join() !== [...gpu.keys()].join()) return [check(`${name} hooks: the same outputs`, Number.POSITIVE_INFINITY, 0)]
  // a method without input / queryKey / scoreBias hooks (NoPE, or one that acts inside attention): the decoder
  // forward pass compares it
  if (keys.length === 0)
    return [check(`${name}: no input, queryKey or scoreBias hook (compared through the decoder forward)`, 0, HOOK_TOLERANCE)]
  return keys.map((key) => check(`${name} ${key}`, worstRelative(gpu.get(key)!, cpu.get(key)!), HOOK_TOLERANCE))
}

export const forwardParity = async (name: string): Promise<ParityCheck> => {
  const { cpu, gpu } = await onBoth(() => logitsOf(name))
  return check(`decoder forward (${name}): logits`, worstRelative(gpu, cpu), LOGITS_TOLERANCE)
}

export const stepParity = async (name: string): Promise<ParityCheck[]> => {
  const { cpu, gpu } = await onBoth(() => oneStep(name))
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b)
  return [
    check(`training step (${name}): loss`, rel(gpu.result.loss, cpu.result.loss), STEP_TOLERANCE.loss),
    check(`training step (${name}): gradient norm`, rel(gpu.result.gradNorm, cpu.result.gradNorm), STEP_TOLERANCE.gradNorm),
    check(
      `training step (${name}): parameters after AdamW`,
      Math.max(...gpu.weights.map((w, i) => worstRelative(w, cpu.weights[i]!))),
      STEP_TOLERANCE.parameters
    )
  ]
}

/** Every check, in order: hooks of every embedding, decoder forwards, training steps. */
export const runWebGpuParity = async (): Promise<ParityCheck[]> => {
  const checks: ParityCheck[] = []
  for (const name of Object.keys(EMBEDDINGS)) checks.push(...(await hookParity(name)))
  for (const name of Object.keys(EMBEDDINGS)) checks.push(await forwardParity(name))
  for (const name of STEP_EMBEDDINGS) checks.push(...(await stepParity(name)))
  return checks
}
