/**
 * The fused ops (models/engine/kernels/fused.ts, native/kernels.c): each op and its gradient on the native engine
 * against the op chain it replaces on the cpu backend; one forward and backward of the decoder (models/decoder.ts)
 * and of the engine's reference model against the cpu backend; the same bits on rerun and with 1 and 2 threads;
 * the op chains unchanged where the fused ops are not available.
 *
 * Tolerances, stated: max|native - cpu| / max|cpu| per tensor within 1e-5 for each op, its gradients, and the
 * models' losses and gradients (the fused kernels sum in another order than the op chains and the cpu backend's
 * float64 sums; measured well below it).
 */
import * as tf from "@tensorflow/tfjs"
import { afterAll, describe, expect, it } from "vitest"
import { createEmbedding } from "../../../embeddings/registry.js"
import { SeededRandom } from "../../../embeddings/seeded-random.js"
import { Decoder } from "../../../models/decoder.js"
import { initEngine } from "../../../models/engine/index.js"
import {
  fusedBiasRelu,
  fusedCrossEntropy,
  fusedLayerNorm,
  fusedMaskedSoftmax,
  fusedOpsAvailable,
  fusedRmsNorm,
  fusedSwiGLU
} from "../../../models/engine/kernels/fused.js"
import { nativeKernelsOf } from "../../../models/engine/kernels/native.js"
import { loadNativeGemm } from "../../../models/engine/native-gemm.js"
import { REFERENCE_MODEL, ReferenceModel, referenceBatch } from "../../../models/engine/reference-model.js"
import { maxRelativeError, seededArray } from "./engine-helpers.js"

const TOLERANCE = 1e-5
const load = loadNativeGemm()
const available = load.ok && typeof (nativeKernelsOf(load.addon)?.addon as { swigluGrad?: unknown } | undefined)?.swigluGrad === "function"

type Path = "fused" | "cpu"
const on = async (path: Path, threads = 1): Promise<void> => {
  if (path === "cpu") await initEngine({ backend: "cpu" })
  else await initEngine({ backend: "wasm", threads, tuned: true, native: true })
}
const read = (ts: tf.Tensor[]): Float32Array[] => ts.map((t) => Float32Array.from(t.dataSync() as Float32Array))

/** value and gradients of `f(inputs)` (summed against a seeded weight, so every output element matters) */
const valueAndGrads = (
  f: (xs: tf.Tensor[]) => tf.Tensor,
  inputs: ReadonlyArray<{ shape: number[]; values: Float32Array }>
): Float32Array[] =>
  tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(i.values, i.shape, "float32"))
    const y = f(xs)
    const weight = tf.tensor(seededArray(y.size, 9, "fused-test/weight"), y.shape, "float32")
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(args), weight)))(xs)
    return read([y, ...grads])
  })

const causalMask = (rows: number): tf.Tensor2D => {
  const m = new Float32Array(rows * rows)
  for (let i = 0; i < rows; i++) for (let j = i + 1; j < rows; j++) m[i * rows + j] = -1e9
  return tf.tensor2d(m, [rows, rows])
}

const expectClose = (fused: Float32Array[], cpu: Float32Array[], what: string): void => {
  expect(fused.length).toBe(cpu.length)
  fused.forEach((f, i) => {
    const e = maxRelativeError(f, cpu[i]!)
    expect(e, `${what}: output ${i} (relative error ${e})`).toBeLessThanOrEqual(TOLERANCE)
  })
}

afterAll(async () => {
  await initEngine({ backend: "wasm", threads: 1, tuned: true })
})

describe.skipIf(!available)("fused ops against the op chains on the cpu backend", () => {
  const N = 70
  const d = 48
  const x = { shape: [N, d], values: seededArray(N * d, 1, "fused-test/x", 3) }
  const gain = { shape: [d], values: seededArray(d, 2, "fused-test/gain", 2) }
  const bias = { shape: [d], values: seededArray(d, 3, "fused-test/bias") }

  const cases: ReadonlyArray<{
    name: string
    inputs: ReadonlyArray<{ shape: number[]; values: Float32Array }>
    fused: (xs: tf.Tensor[]) => tf.Tensor
    chain: (xs: tf.Tensor[]) => tf.Tensor
  }> = [
    {
      name: "LayerNorm",
      inputs: [x, gain, bias],
      fused: ([a, g, b]) => fusedLayerNorm(a!, g!, b!, 1e-5),
      chain: ([a, g, b]) => {
        const { mean, variance } = tf.moments(a!, -1, true)
        return tf.add(tf.mul(tf.div(tf.sub(a!, mean), tf.sqrt(tf.add(variance, 1e-5))), g!), b!)
      }
    },
    {
      name: "RMSNorm",
      inputs: [x, gain],
      fused: ([a, g]) => fusedRmsNorm(a!, g!, 1e-6),
      chain: ([a, g]) => a!.mul(tf.rsqrt(tf.mean(tf.square(a!), -1, true).add(1e-6))).mul(g!)
    },
    {
      name: "masked softmax",
      inputs: [{ shape: [2, 3, 33, 33], values: seededArray(2 * 3 * 33 * 33, 4, "fused-test/scores", 4) }],
      fused: ([s]) => fusedMaskedSoftmax(s!, causalMask(33)),
      chain: ([s]) => tf.softmax(tf.add(s!, causalMask(33)))
    },
    {
      name: "SwiGLU",
      inputs: [x, { shape: [N, d], values: seededArray(N * d, 5, "fused-test/up", 2) }],
      fused: ([a, b]) => fusedSwiGLU(a!, b!),
      chain: ([a, b]) => a!.mul(tf.sigmoid(a!)).mul(b!)
    },
    {
      name: "bias + ReLU",
      inputs: [x, bias],
      fused: ([a, b]) => fusedBiasRelu(a!, b!),
      chain: ([a, b]) => tf.relu(tf.add(a!, b!))
    }
  ]

  for (const c of cases) {
    it(`${c.name}: value and gradients within ${TOLERANCE} of the cpu backend's op chain`, async () => {
      await on("cpu")
      const cpu = valueAndGrads(c.chain, c.inputs)
      await on("fused")
      expect(fusedOpsAvailable()).toBe(true)
      const fused = valueAndGrads(c.fused, c.inputs)
      expectClose(fused, cpu, c.name)
    })
  }

  it("cross-entropy: the mean loss and its gradient within 1e-5 of log-softmax, pick and mean on cpu", async () => {
    const rows = 37
    const V = 70
    const logits = { shape: [rows, V], values: seededArray(rows * V, 6, "fused-test/logits", 8) }
    const rng = SeededRandom.create(7, "fused-test/targets")
    const targets = Int32Array.from({ length: rows }, () => rng.int(V))
    const run = (fused: boolean): Float32Array[] =>
      tf.tidy(() => {
        const l = tf.tensor2d(logits.values, [rows, V])
        const t = tf.tensor1d(targets, "int32")
        const f = (z: tf.Tensor2D) =>
          fused ? fusedCrossEntropy(z, t) : tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(z), tf.oneHot(t, V).cast("float32")), -1)))
        const { value, grads } = tf.valueAndGrads((z: tf.Tensor) => f(z as tf.Tensor2D).mul(3) as tf.Scalar)([l])
        return read([value, grads[0]!])
      })
    await on("cpu")
    const cpu = run(false)
    await on("fused")
    expectClose(run(true), cpu, "cross-entropy")
  })
})

const decoderConfig = { vocabSize: 64, dModel: 32, heads: 2, layers: 2, ffnHidden: 96, trainLength: 24 }
const decoderTokens = (): tf.Tensor2D => {
  const rng = SeededRandom.create(11, "fused-test/decoder-tokens")
  return tf.tensor2d(
    Int32Array.from({ length: 3 * 25 }, () => rng.int(64)),
    [3, 25],
    "int32"
  )
}
/** loss and every gradient of one forward and backward of a seeded decoder (RoPE) */
const decoderStep = (): Float32Array[] => {
  const model = Decoder.create(
    decoderConfig,
    createEmbedding({ name: "rope", params: {} }, { dModel: 32, heads: 2, headDim: 16, layers: 2, trainLength: 24 }, 3),
    3
  )
  try {
    return tf.tidy(() => {
      const tokens = decoderTokens()
      const { value, grads } = tf.variableGrads(() => model.loss(tokens), [...model.trainableVariables])
      return read([value, ...model.trainableVariables.map((v) => grads[v.name]!)])
    })
  } finally {
    model.dispose()
  }
}

const smallReference = { ...REFERENCE_MODEL, dModel: 32, heads: 2, ffnHidden: 64, seqLength: 20, batch: 3 }
/** loss and every gradient of one forward and backward of the reference model */
const referenceStep = (config = smallReference): Float32Array[] => {
  const model = ReferenceModel.create(config, 5)
  try {
    return tf.tidy(() => {
      const tokens = referenceBatch(SeededRandom.create(5, "fused-test/reference"), config)
      const { value, grads } = tf.variableGrads(() => model.loss(tokens), model.variables)
      return read([value, ...model.variables.map((v) => grads[v.name]!)])
    })
  } finally {
    model.dispose()
  }
}

describe.skipIf(!available)("models on the fused ops", () => {
  it("the decoder: loss and every gradient within 1e-5 of the cpu backend", async () => {
    await on("cpu")
    const cpu = decoderStep()
    await on("fused")
    const fused = decoderStep()
    expectClose(fused, cpu, "decoder")
  })

  it("the reference model: loss and every gradient within 1e-5 of the cpu backend", async () => {
    await on("cpu")
    const cpu = referenceStep()
    await on("fused")
    const fused = referenceStep()
    expectClose(fused, cpu, "reference model")
  })

  it("the same bits on rerun and with 1 and 2 threads (the reference model's own size: the softmax kernels split)", async () => {
    await on("fused", 1)
    const first = [...decoderStep(), ...referenceStep(REFERENCE_MODEL)]
    const again = [...decoderStep(), ...referenceStep(REFERENCE_MODEL)]
    await on("fused", 2)
    const two = [...decoderStep(), ...referenceStep(REFERENCE_MODEL)]
    for (const other of [again, two]) {
      other.forEach((t, i) => expect(Buffer.from(t.buffer).equals(Buffer.from(first[i]!.buffer)), `tensor ${i}`).toBe(true))
    }
  })
})

describe("where the fused ops are not available", () => {
  it("the cpu backend and the WebAssembly GEMM path run the op chains", async () => {
    await on("cpu")
    expect(fusedOpsAvailable()).toBe(false)
    await initEngine({ backend: "wasm", threads: 1, tuned: true, native: false })
    expect(fusedOpsAvailable()).toBe(false)
  })

  it.skipIf(!available)("the native engine makes fewer kernel calls for one training step of the reference model", async () => {
    const calls = async (native: boolean): Promise<number> => {
      await initEngine({ backend: "wasm", threads: 1, tuned: true, native })
      const model = ReferenceModel.create(smallReference, 5)
      const tokens = referenceBatch(SeededRandom.create(5, "fused-test/reference"), smallReference)
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => model.loss(tokens), model.variables)
        tf.dispose([value, ...Object.values(grads)])
      })
      tokens.dispose()
      model.dispose()
      return profile.kernels.length
    }
    const chain = await calls(false)
    const fused = await calls(true)
    expect(fused).toBeLessThan(chain / 2)
  })
})
