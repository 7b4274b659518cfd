/**
 * The WebGPU engine against tfjs's cpu backend, on whatever adapter Dawn finds (here: Mesa llvmpipe, software):
 * every position embedding's hooks, the decoder's forward pass, and one full training step. Small shapes keep it
 * quick on a software adapter.
 *
 * Tolerances (float32 on both sides; a GPU orders its sums differently and evaluates sin/cos/exp its own way):
 *   hooks and logits: max |gpu - cpu| <= 1e-4 x max(1, max |cpu|)
 *   one training step: loss to 1e-5 relative, gradient norm to 1e-4, every parameter after the AdamW update to
 *   1e-4 x max(1, max |parameter|) (AdamW divides by sqrt(v), so tiny gradients may round to other updates).
 *
 * Without an adapter the tests skip locally, saying why; under CI=true they FAIL: CI must install the software
 * adapter's packages (.ci/run does).
 */
import * as tf from "@tensorflow/tfjs"
import { afterAll, describe, expect, it } from "vitest"
import { EMBEDDINGS, createEmbedding } from "../../../embeddings/registry.js"
import type { EmbeddingShape } from "../../../embeddings/interface.js"
import { SeededRandom } from "../../../embeddings/seeded-random.js"
import { Decoder, type DecoderConfig } from "../../../models/decoder.js"
import { initEngine, probeWebGpu } from "../../../models/engine/index.js"
import { Trainer } from "../../../models/train/trainer.js"
import { repeatedText, tinySpec } from "../train-helpers.js"

const probe = await probeWebGpu()
const hasAdapter = probe.adapters.length > 0
const inCi = process.env.CI === "true"
const why = `no WebGPU adapter: ${probe.problems.join("; ")}`

const config: DecoderConfig = { vocabSize: 64, dModel: 32, heads: 2, layers: 2, ffnHidden: 64, trainLength: 16 }
const shape: EmbeddingShape = { dModel: 32, heads: 2, headDim: 16, layers: 2, trainLength: 16 }
const T = 16

const read = async (t: tf.Tensor): Promise<Float32Array> => Float32Array.from((await t.data()) as Float32Array)

const worstRelative = (got: Float32Array, want: Float32Array): number => {
  expect(got.length).toBe(want.length)
  let scale = 1
  let worst = 0
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!))
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!))
  }
  return worst / scale
}

const seeded = (shape4: [number, number, number, number], purpose: string): tf.Tensor4D => {
  const n = shape4.reduce((a, b) => a * b, 1)
  return tf.tensor(SeededRandom.create(7, purpose).fill(n, (r) => r.normal()), shape4, "float32") as tf.Tensor4D
}

/** Every hook output of one embedding at T positions, for both layers, read back. */
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
  return out
}

const logitsOf = async (name: string): Promise<Float32Array> => {
  const model = Decoder.create(config, createEmbedding({ name }, shape, 3), 5)
  const tokens = tf.tensor2d(Int32Array.from({ length: 2 * T }, (_, i) => (i * 37 + 11) % config.vocabSize), [2, T], "int32")
  const logits = await read(model.logits(tokens))
  model.embedding.dispose()
  model.dispose()
  return logits
}

const oneStep = async (name: string, backend: "cpu" | "webgpu") => {
  const model = Decoder.create(config, createEmbedding({ name }, shape, 3), 5)
  const data = Int32Array.from(repeatedText(), (b) => b % config.vocabSize)
  const trainer = Trainer.create(model, data, tinySpec({ steps: 1, seqLength: T }), 0)
  const result = backend === "cpu" ? trainer.next() : await trainer.nextAsync()
  const weights = await Promise.all(model.trainableVariables.map(read))
  trainer.dispose()
  model.embedding.dispose()
  model.dispose()
  return { result, weights }
}

describe.skipIf(!hasAdapter && !inCi)(`WebGPU parity with the cpu backend${hasAdapter ? "" : ` (skipped: ${why})`}`, () => {
  afterAll(async () => {
    await initEngine({ backend: "cpu" })
  })

  it("an adapter exists (under CI=true a missing one is a failure, not a skip)", () => {
    expect(hasAdapter, why).toBe(true)
  })

  it.each(Object.keys(EMBEDDINGS))("%s: every hook (input, queryKey, scoreBias) matches cpu within 1e-4", async (name) => {
    await initEngine({ backend: "cpu" })
    const want = await hookOutputs(name)
    await initEngine({ backend: "webgpu" })
    const got = await hookOutputs(name)
    expect([...got.keys()]).toEqual([...want.keys()])
    for (const [key, values] of want) expect(worstRelative(got.get(key)!, values), `${name} ${key}`).toBeLessThan(1e-4)
  })

  it.each(["rope", "fope", "alibi", "learned"])("decoder forward with %s: logits match cpu within 1e-4", async (name) => {
    await initEngine({ backend: "cpu" })
    const want = await logitsOf(name)
    await initEngine({ backend: "webgpu" })
    expect(worstRelative(await logitsOf(name), want)).toBeLessThan(1e-4)
  })

  it.each(["rope", "fope"])("one training step with %s (loss, gradient norm, AdamW update) matches cpu", async (name) => {
    await initEngine({ backend: "cpu" })
    const want = await oneStep(name, "cpu")
    const engine = await initEngine({ backend: "webgpu" })
    expect(engine.backend).toBe("webgpu")
    const got = await oneStep(name, "webgpu")
    expect(Math.abs(got.result.loss - want.result.loss) / want.result.loss).toBeLessThan(1e-5)
    expect(Math.abs(got.result.gradNorm - want.result.gradNorm) / want.result.gradNorm).toBeLessThan(1e-4)
    got.weights.forEach((w, i) => expect(worstRelative(w, want.weights[i]!)).toBeLessThan(1e-4))
  })

  it("the engine record names the adapter, Dawn and tfjs, and records reproducibility as within a tolerance", async () => {
    const engine = await initEngine({ backend: "webgpu" })
    const a = engine.webgpu!.adapter
    expect(engine).toMatchObject({ backend: "webgpu", tfjsVersion: "4.22.0", backendVersion: "4.22.0", deterministic: false })
    expect(engine.webgpu!.dawn).toMatch(/^webgpu 0\.6\.2/)
    expect(a.maxStorageBufferBindingSize).toBeGreaterThan(0)
    expect(a.maxBufferSize).toBeGreaterThanOrEqual(a.maxStorageBufferBindingSize)
    expect(["vulkan", "opengl", "opengles"]).toContain(a.dawnBackend)
    if (a.software) expect(engine.notes?.join(" ")).toMatch(/SOFTWARE WebGPU adapter/)
    expect(engine.gpu).toBe(!a.software)
  })
})
