import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { SeededRandom } from "../../../embeddings/seeded-random.js"
import { evalBatchSize, forwardBytesPerSequence } from "../../../models/eval/batching.js"
import { bucketBounds, lossCurve } from "../../../models/eval/loss-curve.js"
import { perplexityByLength } from "../../../models/eval/perplexity.js"
import { windowStarts } from "../../../models/eval/windows.js"
import { bigramModel, fakeEmbedding, uniformModel, useCpu } from "./fake-models.js"

beforeAll(useCpu)

const stream = (n: number, V: number, seed = 1): Int32Array => {
  const rng = SeededRandom.create(seed, "test/stream")
  // a Markov-ish stream so that a bigram model does better than uniform
  const out = new Int32Array(n)
  for (let i = 1; i < n; i++) out[i] = rng.uniform() < 0.7 ? (out[i - 1]! + 1) % V : rng.int(V)
  return out
}

describe("perplexityByLength", () => {
  it("of a uniform model equals the vocabulary size (up to float error)", async () => {
    const V = 37
    const { rows, metrics } = await perplexityByLength(uniformModel(V), stream(1000, V), [8, 31, 64])
    for (const r of rows) {
      expect(r.applicable).toBe(true)
      if (!r.applicable) continue
      expect(r.loss).toBeCloseTo(Math.log(V), 5)
      expect(r.perplexity / V).toBeCloseTo(1, 5)
    }
    expect(metrics.filter((m) => m.name === "perplexity").map((m) => m.length)).toEqual([8, 31, 64])
    expect(metrics.find((m) => m.name === "val_loss")).toMatchObject({ unit: "nats/token", better: "lower", length: 8 })
  })

  it("evaluates disjoint windows from the start of the stream and counts their tokens", async () => {
    const V = 16
    const valid = stream(500, V)
    const model = uniformModel(V)
    const { rows } = await perplexityByLength(model, valid, [20], { batchSize: 3 })
    const r = rows[0]!
    const expectedWindows = Math.floor(500 / 21)
    expect(r).toMatchObject({ applicable: true, windows: expectedWindows, tokens: expectedWindows * 20, batchSize: 3 })
    const seen = model.calls.flat()
    expect(seen.length).toBe(expectedWindows)
    expect(model.calls[0]!.length).toBe(3) // batched
    seen.forEach((row, w) => {
      expect(row.length).toBe(21)
      expect(Array.from(row)).toEqual(Array.from(valid.subarray(w * 21, (w + 1) * 21)))
    })
    expect(windowStarts(500, 20, { maxWindows: 5 })).toEqual([0, 21, 42, 63, 84])
    expect(windowStarts(500, 20, { maxTokens: 50 })).toEqual([0, 21])
  })

  it("of a bigram model matches the loss computed by hand on the same windows", async () => {
    const V = 12
    const valid = stream(400, V, 2)
    const { model, logp } = bigramModel(V, stream(5000, V, 3))
    const length = 15
    const { rows } = await perplexityByLength(model, valid, [length], { maxWindows: 10 })
    let sum = 0
    for (let w = 0; w < 10; w++) {
      for (let p = 0; p < length; p++) sum -= logp[valid[w * 16 + p]! * V + valid[w * 16 + p + 1]!]!
    }
    const r = rows[0]!
    expect(r.applicable && r.loss).toBeCloseTo(sum / (10 * length), 4)
    expect(r.applicable && r.perplexity).toBeLessThan(V) // the bigram model beats uniform on a Markov stream
  })

  it("reports a length beyond the embedding's table as not applicable, never clamped", async () => {
    const model = uniformModel(8, fakeEmbedding({ name: "learned-absolute", family: "input", maxLength: 32 }))
    const { rows, metrics } = await perplexityByLength(model, stream(1000, 8), [16, 32, 64])
    expect(rows.map((r) => r.applicable)).toEqual([true, true, false])
    const r = rows[2]!
    expect(r.applicable).toBe(false)
    if (!r.applicable) {
      expect(r.reason).toMatch(/only up to length 32/)
      expect(r.loss).toBeNull()
      expect(r.tokens).toBe(0)
    }
    expect(metrics.some((m) => m.length === 64)).toBe(false)
  })

  it("uses a view per length from a factory, disposes it, and maps an unsupported extension to not applicable", async () => {
    const own = fakeEmbedding({ name: "own" })
    const views: Array<ReturnType<typeof fakeEmbedding>> = []
    const seen: string[] = []
    const model = uniformModel(8, own)
    const inner = model.tokenLosses
    model.tokenLosses = (tokens, options) => {
      seen.push(options?.embedding?.name ?? "default")
      return inner(tokens, options)
    }
    const { rows } = await perplexityByLength(model, stream(300, 8), [8, 16, 24], {
      embedding: (length) => {
        if (length === 24) throw Object.assign(new Error("fake has no extension yarn"), { name: "EmbeddingError" })
        const v = fakeEmbedding({ name: `view${length}` })
        views.push(v)
        return v
      }
    })
    expect(rows.map((r) => r.applicable)).toEqual([true, true, false])
    expect(!rows[2]!.applicable && rows[2]!.reason).toMatch(/no extension yarn/)
    expect(new Set(seen)).toEqual(new Set(["view8", "view16"]))
    expect(views.map((v) => v.disposed)).toEqual([1, 1])
    expect(own.disposed).toBe(0)
  })

  it("leaves no tensors behind", async () => {
    const model = uniformModel(8)
    const before = tf.memory().numTensors
    await perplexityByLength(model, stream(400, 8), [8, 16])
    await lossCurve(model, stream(400, 8), 16, 4)
    expect(tf.memory().numTensors).toBe(before)
  })

  it("stops between batches when its signal is aborted", async () => {
    const controller = new AbortController()
    controller.abort(new Error("interrupted"))
    await expect(perplexityByLength(uniformModel(8), stream(400, 8), [8], { signal: controller.signal })).rejects.toThrow("interrupted")
  })
})

describe("memory-bounded batching", () => {
  it("gives one sequence at 16x a 128 training length on the largest CPU scale, more at short lengths", () => {
    const mini = { heads: 8, layers: 5, vocabSize: 256, dModel: 256, ffnHidden: 1024 }
    expect(evalBatchSize(mini, 2048, 8)).toBe(1)
    expect(evalBatchSize(mini, 128, 8)).toBe(8)
    expect(evalBatchSize(mini, 256, 8)).toBe(3)
    expect(forwardBytesPerSequence(mini, 2048)).toBe(4 * (5 * (4 * 8 * 2048 * 2048 + 10 * 2048 * 256 + 6 * 2048 * 1024) + 4 * 2048 * 256))
    expect(forwardBytesPerSequence({ heads: 8, layers: 5, vocabSize: 256 }, 64)).toBe(4 * (5 * 4 * 8 * 64 * 64 + 4 * 64 * 256))
    expect(evalBatchSize(mini, 512, 64) * forwardBytesPerSequence(mini, 512)).toBeLessThanOrEqual(256 * 1024 * 1024)
  })
})

describe("lossCurve", () => {
  it("splits positions into equal buckets and averages per bucket", async () => {
    expect(bucketBounds(10, 4)).toEqual([
      [0, 2],
      [2, 5],
      [5, 7],
      [7, 10]
    ])
    const V = 10
    const { curve, metrics } = await lossCurve(uniformModel(V), stream(600, V), 32, 4)
    expect(curve.applicable).toBe(true)
    if (!curve.applicable) return
    expect(curve.buckets.map((b) => [b.from, b.to])).toEqual([
      [0, 8],
      [8, 16],
      [16, 24],
      [24, 32]
    ])
    for (const b of curve.buckets) expect(b.loss).toBeCloseTo(Math.log(V), 5)
    expect(metrics.map((m) => m.length)).toEqual([8, 16, 24, 32])
    expect(metrics[0]).toMatchObject({ name: "loss_bucket", better: "lower" })
  })

  it("averages a position-dependent loss per bucket, and is not applicable past the embedding's table", async () => {
    // a model whose loss at position p is p / 10, whatever the tokens
    const base = uniformModel(6)
    const model = {
      ...base,
      tokenLosses: (tokens: tf.Tensor2D) => {
        const [B, T1] = tokens.shape
        return tf.tidy(
          () =>
            tf
              .range(0, T1 - 1, 1, "float32")
              .div(10)
              .reshape([1, T1 - 1])
              .tile([B, 1]) as tf.Tensor2D
        )
      }
    }
    const { curve } = await lossCurve(model, stream(2000, 6, 9), 40, 4)
    expect(curve.applicable).toBe(true)
    if (curve.applicable) {
      // bucket [from, to): mean of p/10 = (from + to - 1) / 20
      curve.buckets.forEach((b) => expect(b.loss).toBeCloseTo((b.from + b.to - 1) / 20, 5))
      expect(curve.buckets[3]!.loss).toBeGreaterThan(curve.buckets[0]!.loss)
    }
    const short = await lossCurve(uniformModel(6, fakeEmbedding({ maxLength: 8 })), stream(2000, 6, 9), 40, 2)
    expect(short.curve.applicable).toBe(false)
    expect(short.metrics).toEqual([])
  })
})
