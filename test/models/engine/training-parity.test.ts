/**
 * One full training step on tuned wasm vs the cpu backend, and bitwise reproducibility of tuned wasm.
 *
 * The model is built here, self-contained and tiny: embedding via tf.gather (its gradient is
 * UnsortedSegmentSum, the added wasm kernel), q/k/v projections, 4-D batched attention products with
 * transposes (the BatchMatMul override's main case), causal softmax, output projection, cross-entropy.
 *
 * Tolerances, stated: loss |wasm - cpu| <= 1e-5 * |cpu|; each gradient max|wasm - cpu| <= 1e-4 * max|cpu|
 * (float32, different summation orders through ~10 chained ops; measured: backends
 * agreeing to about 4 decimals on the loss after 22 steps).
 */
import * as tf from "@tensorflow/tfjs"
import { afterAll, describe, expect, it } from "vitest"
import { SeededRandom } from "../../../embeddings/seeded-random.js"
import { initEngine } from "../../../models/engine/index.js"
import { GEMM_PATHS, maxRelativeError, tunedKernelLabels } from "./engine-helpers.js"

const LOSS_TOLERANCE = 1e-5
const GRAD_TOLERANCE = 1e-4

const V = 32
const D = 16
const H = 2
const HD = D / H
const T = 8
const B = 2

type Weights = Record<"embed" | "wq" | "wk" | "wv" | "wo" | "out", { shape: [number, number]; values: Float32Array }>

const seededWeights = (seed: number): Weights => {
  const rng = SeededRandom.create(seed, "engine-test/init")
  const w = (rows: number, cols: number, std: number) => ({
    shape: [rows, cols] as [number, number],
    values: rng.fill(rows * cols, (r) => r.truncatedNormal(std))
  })
  return {
    embed: w(V, D, 0.5),
    wq: w(D, D, 0.3),
    wk: w(D, D, 0.3),
    wv: w(D, D, 0.3),
    wo: w(D, D, 0.3),
    out: w(D, V, 0.3)
  }
}

const seededTokens = (seed: number, step: number): Int32Array => {
  const rng = SeededRandom.create(seed, `engine-test/data/${step}`)
  return Int32Array.from({ length: B * (T + 1) }, () => rng.int(V))
}

type Vars = Record<keyof Weights, tf.Variable>

const makeVariables = (w: Weights): Vars =>
  Object.fromEntries(
    Object.entries(w).map(([name, { shape, values }]) => [name, tf.variable(tf.tensor2d(values, shape), true, `${name}`)])
  ) as Vars

/** Mean next-token cross-entropy of the tiny attention model. tokens: [B, T+1] int32. */
const lossOf = (v: Vars, tokens: tf.Tensor2D): tf.Scalar =>
  tf.tidy(() => {
    const inputs = tf.slice(tokens, [0, 0], [B, T]) // [B, T]
    const targets = tf.reshape(tf.slice(tokens, [0, 1], [B, T]), [B * T]) // [B*T]
    const x = tf.reshape(tf.gather(v.embed, inputs), [B * T, D]) // [B*T, D]
    const heads = (w: tf.Tensor) => tf.transpose(tf.reshape(tf.matMul(x, w), [B, T, H, HD]), [0, 2, 1, 3]) // [B, H, T, hd]
    const q = heads(v.wq)
    const k = heads(v.wk)
    const val = heads(v.wv)
    const causal = tf.linalg.bandPart(tf.ones([T, T]), -1, 0) // [T, T], 1 on and below the diagonal
    const mask = tf.mul(tf.sub(1, causal), -1e9)
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(HD)), mask) // [B, H, T, T]
    const attended = tf.matMul(tf.softmax(scores), val) // [B, H, T, hd]
    const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [B * T, D]) // [B*T, D]
    const h = tf.add(x, tf.matMul(merged, v.wo)) // [B*T, D]
    const logits = tf.matMul(h, v.out) // [B*T, V]
    return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, V), logits) as tf.Scalar
  })

interface StepOutcome {
  readonly loss: number
  readonly grads: Record<string, Float32Array>
}

const oneStep = async (backend: "cpu" | "wasm"): Promise<StepOutcome> => {
  await tf.setBackend(backend)
  const v = makeVariables(seededWeights(7))
  const tokens = tf.tensor2d(seededTokens(7, 0), [B, T + 1], "int32")
  const { value, grads } = tf.variableGrads(() => lossOf(v, tokens), Object.values(v))
  const out: StepOutcome = {
    loss: (await value.data())[0],
    grads: Object.fromEntries(await Promise.all(Object.entries(grads).map(async ([n, g]) => [n, Float32Array.from(await g.data())])))
  }
  tf.dispose([value, tokens, ...Object.values(grads), ...Object.values(v)])
  return out
}

/** `steps` SGD steps from seeded weights; the loss sequence as float32 values and the tensor count after each step. */
const train = (steps: number): { losses: number[]; tensorCounts: number[] } => {
  const v = makeVariables(seededWeights(3))
  const losses: number[] = []
  const tensorCounts: number[] = []
  for (let step = 0; step < steps; step++) {
    const tokens = tf.tensor2d(seededTokens(3, step % 2), [B, T + 1], "int32") // two batches, alternating
    const { value, grads } = tf.variableGrads(() => lossOf(v, tokens), Object.values(v))
    tf.tidy(() => {
      for (const [name, g] of Object.entries(grads)) v[name as keyof Vars].assign(tf.sub(v[name as keyof Vars], tf.mul(g, 0.5)))
    })
    losses.push(value.dataSync()[0])
    tf.dispose([value, tokens, ...Object.values(grads)])
    tensorCounts.push(tf.memory().numTensors)
  }
  tf.dispose(Object.values(v))
  return { losses, tensorCounts }
}

// Each product path: the WebAssembly SIMD GEMM, and the native library where its addon is built.
for (const path of GEMM_PATHS) {
  describe(`training-step parity: tuned wasm (${path.name}) vs cpu`, () => {
    it("loss and every gradient agree within the stated tolerances", async () => {
      await initEngine({ backend: "cpu" })
      const cpu = await oneStep("cpu")
      const info = await initEngine({ backend: "wasm", threads: 1, tuned: true, native: path.native })
      // on the native path the C kernels (kernels/native.ts) compute the step's elementwise ops, sums, softmax too
      expect(info.kernelOverrides).toEqual(tunedKernelLabels())
      expect(info.kernelOverrides.some((k) => k.includes("native C"))).toBe(path.native && info.native?.kernels !== undefined)
      const wasm = await oneStep("wasm")
      expect(Number.isFinite(cpu.loss)).toBe(true)
      expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThanOrEqual(LOSS_TOLERANCE * Math.abs(cpu.loss))
      expect(Object.keys(wasm.grads).sort()).toEqual(["embed", "out", "wk", "wo", "wq", "wv"])
      for (const name of Object.keys(cpu.grads)) {
        const gMax = cpu.grads[name].reduce((m, x) => Math.max(m, Math.abs(x)), 0)
        expect(gMax, `gradient ${name} is not all zero`).toBeGreaterThan(0)
        expect(maxRelativeError(wasm.grads[name], cpu.grads[name]), `gradient ${name}`).toBeLessThanOrEqual(GRAD_TOLERANCE)
      }
    })
  })

  describe(`tuned wasm (${path.name}) is bitwise reproducible (backs EngineInfo.deterministic)`, () => {
    afterAll(async () => {
      await initEngine({ backend: "wasm", threads: 1 }) // leave the process on the plain single-thread build
    })

    it("two identical 4-step runs give bitwise identical losses; the tensor count is constant across steps", async () => {
      const info = await initEngine({ backend: "wasm", threads: 1, tuned: true, native: path.native })
      expect(info.deterministic).toBe(true)
      const first = train(4)
      const second = train(4)
      expect(second.losses).toEqual(first.losses) // toEqual on numbers is exact (Object.is per element)
      expect(first.losses[2]).toBeLessThan(first.losses[0]) // it does train (same batch at steps 0 and 2)
      expect(new Set(first.tensorCounts).size).toBe(1)
      expect(new Set(second.tensorCounts).size).toBe(1)
    })

    it("with 2 threads: bitwise identical twice, and identical to 1 thread", async () => {
      const single = (await initEngine({ backend: "wasm", threads: 1, tuned: true, native: path.native }), train(3))
      const info = await initEngine({ backend: "wasm", threads: 2, tuned: true, native: path.native })
      // If the threaded build could not start here, initEngine fell back and says so: then there is nothing to compare.
      if (info.threads !== 2) {
        expect(info.notes?.join(" ") ?? "").toMatch(/fell back to 1 thread/)
        return
      }
      console.info(`2-thread determinism test ran on: ${info.threads} threads`)
      const a = train(3)
      const b = train(3)
      expect(b.losses).toEqual(a.losses)
      expect(a.losses).toEqual(single.losses)
    })
  })
}
