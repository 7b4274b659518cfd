import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { SeededRandom } from "../../../embeddings/seeded-random.js"
import { initEngine } from "../../../models/engine/index.js"
import {
  REFERENCE_MODEL,
  ReferenceModel,
  referenceBatch,
  trainStepFlops,
  type ReferenceModelConfig
} from "../../../models/engine/reference-model.js"

const tiny: ReferenceModelConfig = {
  vocab: 20,
  dModel: 16,
  heads: 2,
  layers: 2,
  ffnHidden: 32,
  seqLength: 12,
  batch: 2,
  embedding: "gather"
}

describe("the engine benchmark's reference model", () => {
  beforeAll(async () => {
    await initEngine({ backend: "wasm", threads: 1, tuned: true })
  })

  it("is the issue-7 model: about 2.9 GFLOP per training step", () => {
    expect(REFERENCE_MODEL).toMatchObject({ layers: 2, dModel: 128, heads: 4, vocab: 64, batch: 8, seqLength: 128 })
    expect(trainStepFlops(REFERENCE_MODEL) / 1e9).toBeCloseTo(2.87, 2)
  })

  it("chunked attention (query blocks) gives the same loss as full attention", () => {
    const model = ReferenceModel.create(tiny, 5)
    const tokens = referenceBatch(SeededRandom.create(5, "t"), tiny)
    const full = model.loss(tokens)
    const chunked = model.loss(tokens, { queryChunk: 5 }) // 12 rows: blocks 5, 5, 2
    expect(Math.abs(chunked.dataSync()[0] - full.dataSync()[0])).toBeLessThan(1e-6)
    tf.dispose([full, chunked, tokens])
    model.dispose()
  })

  it("gather and one-hot embeddings give the same loss; training keeps the tensor count constant", () => {
    const gather = ReferenceModel.create(tiny, 6)
    const onehot = ReferenceModel.create({ ...tiny, embedding: "onehot" }, 6)
    const tokens = referenceBatch(SeededRandom.create(6, "t"), tiny)
    const [a, b] = [gather.loss(tokens), onehot.loss(tokens)]
    expect(Math.abs(a.dataSync()[0] - b.dataSync()[0])).toBeLessThan(1e-5)
    tf.dispose([a, b])
    const opt = tf.train.adam(1e-2)
    const counts: number[] = []
    const losses: number[] = []
    for (let i = 0; i < 4; i++) {
      const cost = opt.minimize(() => gather.loss(tokens), true, gather.variables)!
      losses.push(cost.dataSync()[0])
      cost.dispose()
      counts.push(tf.memory().numTensors)
    }
    expect(new Set(counts.slice(1)).size).toBe(1) // Adam creates its slots at the first step
    expect(losses[3]).toBeLessThan(losses[0])
    opt.dispose()
    tokens.dispose()
    gather.dispose()
    onehot.dispose()
  })
})
