/** Randomized positions (embeddings/randomized-positions.ts): the subset, its composition with methods, off at evaluation. */
import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { EmbeddingError } from "../../embeddings/interface.js"
import { sortedRandomSubset, trainingPositionsAt } from "../../embeddings/randomized-positions.js"
import { createEmbedding, resolveEmbeddingParams } from "../../embeddings/registry.js"
import { SeededRandom } from "../../embeddings/seeded-random.js"
import { Decoder } from "../../models/decoder.js"
import { maxAbsDiff, randomTensor, shapeOf, useCpu } from "./helpers.js"

beforeAll(useCpu)

describe("randomized positions", () => {
  it("draws T distinct sorted integers of [0, M), the same for the same (seed, step), others for another step", () => {
    for (const [T, M] of [
      [16, 16],
      [16, 256],
      [100, 4096],
      [1, 5]
    ] as const) {
      const p = trainingPositionsAt(3, M, T, 7)
      expect(p).toHaveLength(T)
      expect(new Set(p).size).toBe(T)
      p.forEach((x, i) => {
        expect(Number.isInteger(x) && x >= 0 && x < M).toBe(true)
        if (i > 0) expect(x).toBeGreaterThan(p[i - 1]!)
      })
      expect(trainingPositionsAt(3, M, T, 7)).toEqual(p)
    }
    expect(trainingPositionsAt(3, 16, 16, 1)).toEqual(Array.from({ length: 16 }, (_, i) => i)) // M = T: every position
    expect(trainingPositionsAt(3, 256, 16, 8)).not.toEqual(trainingPositionsAt(3, 256, 16, 7))
    expect(() => sortedRandomSubset(SeededRandom.create(1), 9, 8)).toThrow(EmbeddingError)
  })

  it("covers [0, M) uniformly: each position drawn about T/M of the time", () => {
    const M = 64
    const counts = new Array<number>(M).fill(0)
    const rng = SeededRandom.create(11, "coverage")
    for (let i = 0; i < 4000; i++) for (const x of sortedRandomSubset(rng, 8, M)) counts[x]!++
    // expected 4000 * 8/64 = 500 per position; binomial std about 21
    expect(Math.min(...counts)).toBeGreaterThan(400)
    expect(Math.max(...counts)).toBeLessThan(600)
  })

  it("composes with any method that takes positions: its hooks at p equal rows p of its tables at 0..M-1", () => {
    const shape = shapeOf({ headDim: 8, heads: 2, trainLength: 16 })
    const positions = trainingPositionsAt(5, 64, 16, 1)
    for (const name of ["rope", "fope", "hope", "p-rope"]) {
      const e = createEmbedding({ name, params: { randomPositions: 64 } }, shape, 1)
      // the same vector at every position: rows of the rotated output are the tables' rows
      const q = tf.tile(randomTensor([1, 2, 1, 8], 2), [1, 1, 64, 1]) as tf.Tensor4D
      const [full] = e.queryKey!(q, q, 0) // positions 0..63
      const q16 = q.slice([0, 0, 0, 0], [1, 2, 16, 8]) as tf.Tensor4D
      const [picked] = e.queryKey!(q16, q16, 0, positions)
      const rows = tf.gather(full, tf.tensor1d(positions, "int32"), 2)
      expect(maxAbsDiff(picked, rows), name).toBeLessThan(1e-5)
      tf.dispose([q, full, q16, picked, rows])
      e.dispose()
    }
    const s = createEmbedding(
      { name: "sinusoidal", params: { randomPositions: 64 } },
      shapeOf({ headDim: 8, heads: 2, trainLength: 16 }),
      1
    )
    const rows = tf.gather(s.input!(64), tf.tensor1d(positions, "int32"), 0)
    expect(maxAbsDiff(s.input!(16, positions), rows)).toBe(0)
    s.dispose()
  })

  it("is resolved only when on, and refused for methods without positions", () => {
    expect(resolveEmbeddingParams("rope", {})).toEqual({ base: 10000 })
    expect(resolveEmbeddingParams("rope", { randomPositions: 0 })).toEqual({ base: 10000 })
    expect(resolveEmbeddingParams("rope", { randomPositions: "512" })).toEqual({ base: 10000, randomPositions: 512 })
    expect(() => resolveEmbeddingParams("alibi", { randomPositions: 512 })).toThrow(/randomPositions applies to .*rope.*alibi does not/)
    expect(() => resolveEmbeddingParams("rope", { randomPositions: -1 })).toThrow(EmbeddingError)
    expect(() =>
      createEmbedding({ name: "rope", params: { randomPositions: 8 } }, shapeOf({ headDim: 8, heads: 2, trainLength: 16 }), 1)
    ).toThrow(/below the training length/)
  })

  it("in the decoder: a training step runs at the drawn positions; evaluation equals the plain method bit for bit", () => {
    const config = { vocabSize: 16, dModel: 16, heads: 2, layers: 2, ffnHidden: 32, trainLength: 16 }
    const shape = { dModel: 16, heads: 2, headDim: 8, layers: 2, trainLength: 16 }
    const randomized = Decoder.create(config, createEmbedding({ name: "rope", params: { randomPositions: 256 } }, shape, 1), 1)
    const plain = Decoder.create(config, createEmbedding({ name: "rope", params: {} }, shape, 1), 1)
    const rng = SeededRandom.create(9, "tokens")
    const tokens = tf.tensor2d(
      Array.from({ length: 2 * 17 }, () => rng.int(16)),
      [2, 17],
      "int32"
    )
    const evalR = randomized.loss(tokens).dataSync()[0]!
    const evalP = plain.loss(tokens).dataSync()[0]!
    expect(evalR).toBe(evalP)
    expect(plain.loss(tokens, { trainingStep: 3 }).dataSync()[0]).toBe(evalP) // no trainingPositions: no effect
    const step3 = randomized.loss(tokens, { trainingStep: 3 }).dataSync()[0]!
    expect(step3).not.toBe(evalP)
    expect(randomized.loss(tokens, { trainingStep: 3 }).dataSync()[0]).toBe(step3)
    expect(randomized.loss(tokens, { trainingStep: 4 }).dataSync()[0]).not.toBe(step3)
    // the drawn positions are exactly what the hooks see: the rotary outputs match a rope view at those positions
    const seen: number[][] = []
    randomized.loss(tokens, {
      trainingStep: 3,
      onQueryKey: (layer, pre, post) => {
        if (layer !== 0) return
        const [expected] = plain.embedding.queryKey!(pre.q, pre.k, 0, trainingPositionsAt(1, 256, 16, 3))
        seen.push([maxAbsDiff(post.q, expected)])
      }
    })
    expect(seen).toEqual([[0]])
    tokens.dispose()
    randomized.dispose()
    plain.dispose()
  })
})

describe("randomized positions through the Trainer", () => {
  it("the Trainer's steps run at the drawn positions: losses differ from plain RoPE's from step 1, the same on a rerun", async () => {
    const { Trainer } = await import("../../models/train/index.js")
    const config = { vocabSize: 16, dModel: 16, heads: 2, layers: 1, ffnHidden: 32, trainLength: 16 }
    const shape = { dModel: 16, heads: 2, headDim: 8, layers: 1, trainLength: 16 }
    const rng = SeededRandom.create(2, "trainer-data")
    const data = Int32Array.from({ length: 400 }, () => rng.int(16))
    const spec = {
      steps: 2,
      batchSize: 2,
      seqLength: 16,
      learningRate: 1e-3,
      warmupSteps: 1,
      minLrRatio: 0.1,
      weightDecay: 0.1,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      gradClip: 1
    }
    const losses = (params: Record<string, unknown>): number[] => {
      const model = Decoder.create(config, createEmbedding({ name: "rope", params }, shape, 1), 1)
      const trainer = Trainer.create(model, data, spec, 3)
      const out = [trainer.next().loss, trainer.next().loss]
      trainer.dispose()
      model.dispose()
      return out
    }
    const plain = losses({})
    const random = losses({ randomPositions: 512 })
    expect(random[0]).not.toBe(plain[0]) // same weights and batch, other positions
    expect(losses({ randomPositions: 512 })).toEqual(random) // seeded by (seed, step)
  })
})
