/**
 * Every method trains inside the decoder (models/decoder.ts) for a few optimizer steps without NaN, on the
 * cpu and the wasm backend: a tiny model, 3 Adam steps (tf.train.adam), seeded data.
 */
import * as tf from "@tensorflow/tfjs"
import "@tensorflow/tfjs-backend-cpu"
import "@tensorflow/tfjs-backend-wasm"
import { describe, expect, it } from "vitest"
import { createEmbedding, listEmbeddings } from "../../embeddings/registry.js"
import { SeededRandom } from "../../embeddings/seeded-random.js"
import { Decoder, type DecoderConfig } from "../../models/decoder.js"

const config: DecoderConfig = { vocabSize: 16, dModel: 16, heads: 2, layers: 2, ffnHidden: 32, trainLength: 16 }
const shape = { dModel: 16, heads: 2, headDim: 8, layers: 2, trainLength: 16 }

const batch = (step: number): tf.Tensor2D => {
  const rng = SeededRandom.create(5, `train-in-decoder/batch${step}`)
  return tf.tensor2d(
    Array.from({ length: 2 * 17 }, () => rng.int(16)),
    [2, 17],
    "int32"
  ) // [B, T+1]
}

const methods: Array<[string, Record<string, unknown>]> = [
  ...listEmbeddings().map((m) => [m.name, {}] as [string, Record<string, unknown>]),
  ["fope", { learnable: true }],
  ["fox", { rope: true }],
  ["rope", { randomPositions: 64 }]
]

describe.each(["cpu", "wasm"])("training inside the decoder on %s", (backend) => {
  it.each(methods)("%s %j: 3 Adam steps, finite losses, embedding parameters move", async (name, params) => {
    await tf.setBackend(backend)
    await tf.ready()
    expect(tf.getBackend()).toBe(backend)
    const embedding = createEmbedding({ name, params }, shape, 1)
    const model = Decoder.create(config, embedding, 1)
    const optimizer = tf.train.adam(1e-2)
    const before = embedding.trainable.map((v) => Array.from(v.dataSync()))
    const fixedBefore = Object.values(embedding.fixed).map((t) => Array.from(t.dataSync()))
    const losses: number[] = []
    let tensorsAfterFirst = 0
    for (let step = 0; step < 3; step++) {
      const tokens = batch(step)
      const loss = optimizer.minimize(() => model.loss(tokens, { trainingStep: step + 1 }), true, [...model.trainableVariables])!
      losses.push(loss.dataSync()[0]!)
      tf.dispose([loss, tokens])
      if (step === 0) tensorsAfterFirst = tf.memory().numTensors
    }
    expect(losses.every(Number.isFinite), `losses ${losses}`).toBe(true)
    expect(losses[0]!).toBeGreaterThan(1) // about ln 16 = 2.77 at init
    expect(tf.memory().numTensors).toBe(tensorsAfterFirst) // no tensor leak across steps
    embedding.trainable.forEach((v, i) => {
      const after = Array.from(v.dataSync())
      expect(after.every(Number.isFinite)).toBe(true)
      expect(after, `${embedding.trainableNames?.[i]} moved`).not.toEqual(before[i])
    })
    // FoPE's fixed coefficients stay fixed (they are not variables, the optimizer cannot touch them)
    expect(Object.values(embedding.fixed).map((t) => Array.from(t.dataSync()))).toEqual(fixedBefore)
    if (name === "fope" && params["learnable"] !== true) expect(fixedBefore).toHaveLength(4)
    optimizer.dispose()
    model.dispose()
  })
})
