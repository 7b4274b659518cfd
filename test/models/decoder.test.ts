import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { EmbeddingError } from "../../embeddings/interface.js"
import { Decoder, lookupMode, type DecoderConfig } from "../../models/decoder.js"
import { nope, rope, shapeOf, useCpu } from "./decoder-helpers.js"

const config: DecoderConfig = { vocabSize: 256, dModel: 32, heads: 2, layers: 2, ffnHidden: 128, trainLength: 16 }

const randomTokens = (B: number, T: number, seed: number): tf.Tensor2D => {
  const ids = new Int32Array(B * T)
  let s = seed
  for (let i = 0; i < ids.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    ids[i] = (s >>> 16) % 256
  }
  return tf.tensor2d(ids, [B, T], "int32")
}

describe("Decoder", () => {
  beforeAll(useCpu)

  it("produces logits [B, T, V] and per-token losses [B, T]", () => {
    const model = Decoder.create(config, nope(shapeOf(config)), 1)
    const tokens = randomTokens(2, 9, 7)
    const logits = tf.tidy(() => model.logits(tokens.slice([0, 0], [2, 8]) as tf.Tensor2D))
    expect(logits.shape).toEqual([2, 8, 256])
    const losses = model.tokenLosses(tokens)
    expect(losses.shape).toEqual([2, 8])
    expect(Array.from(losses.dataSync()).every(Number.isFinite)).toBe(true)
    tf.dispose([tokens, logits, losses])
    model.dispose()
  })

  it("an untrained model's perplexity on random tokens is close to the vocabulary size", () => {
    const model = Decoder.create(config, nope(shapeOf(config)), 2)
    const tokens = randomTokens(4, 33, 11)
    const loss = model.loss(tokens)
    const perplexity = Math.exp(loss.dataSync()[0]!)
    expect(Math.abs(perplexity - 256) / 256).toBeLessThan(0.1)
    tf.dispose([tokens, loss])
    model.dispose()
  })

  it("is causal: changing a later token does not change earlier logits", () => {
    const model = Decoder.create(config, rope(shapeOf(config)), 3)
    const a = randomTokens(1, 12, 5)
    const values = a.arraySync()
    values[0]![11] = (values[0]![11]! + 1) % 256
    const b = tf.tensor2d(values, [1, 12], "int32")
    const la = model.logits(a).slice([0, 0, 0], [1, 11, 256])
    const lb = model.logits(b).slice([0, 0, 0], [1, 11, 256])
    expect(tf.max(tf.abs(la.sub(lb))).dataSync()[0]).toBe(0)
    tf.dispose([a, b, la, lb])
    model.dispose()
  })

  it("the same seed gives the same weights; another seed does not", () => {
    const e = (): ReturnType<typeof nope> => nope(shapeOf(config))
    const m1 = Decoder.create(config, e(), 4)
    const m2 = Decoder.create(config, e(), 4)
    const m3 = Decoder.create(config, e(), 5)
    const w = (m: Decoder): Float32Array => m.namedParameters.find(([n]) => n === "blocks.0.attn.q.weight")![1].dataSync() as Float32Array
    expect(Array.from(w(m1))).toEqual(Array.from(w(m2)))
    expect(Array.from(w(m1))).not.toEqual(Array.from(w(m3)))
    // truncated normal, std 0.02, cut at 3 std
    const values = Array.from(m1.namedParameters[0]![1].dataSync())
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(0.06 + 1e-7)
    const std = Math.sqrt(values.reduce((s, x) => s + x * x, 0) / values.length)
    expect(std).toBeGreaterThan(0.017)
    expect(std).toBeLessThan(0.02)
    for (const m of [m1, m2, m3]) m.dispose()
  })

  it("calls onQueryKey per layer with pre and post tensors [B, H, T, hd]", () => {
    const model = Decoder.create(config, rope(shapeOf(config)), 6)
    const tokens = randomTokens(2, 8, 3)
    const seen: Array<{ layer: number; shape: number[]; changed: boolean }> = []
    const out = model.logits(tokens, {
      onQueryKey: (layer, pre, post) => {
        seen.push({ layer, shape: pre.q.shape, changed: tf.max(tf.abs(pre.q.sub(post.q))).dataSync()[0]! > 0 })
      }
    })
    expect(seen.map((s) => s.layer)).toEqual([0, 1])
    expect(seen[0]!.shape).toEqual([2, 2, 8, 16])
    expect(seen.every((s) => s.changed)).toBe(true)
    tf.dispose([tokens, out])
    model.dispose()
  })

  it("throws EmbeddingError past the embedding's maxLength", () => {
    const model = Decoder.create(config, nope(shapeOf(config), 8), 7)
    const tokens = randomTokens(1, 9, 1)
    expect(() => model.logits(tokens)).toThrow(EmbeddingError)
    tf.dispose(tokens)
    model.dispose()
  })

  it("tokenLosses stay finite for huge logits (log-softmax)", () => {
    const model = Decoder.create(config, nope(shapeOf(config)), 8)
    // blow up the output projection: logits ~ 1e4
    const head = model.namedParameters.find(([n]) => n === "lm_head.weight")![1]
    head.assign(head.mul(1e5))
    const tokens = randomTokens(2, 9, 2)
    const losses = model.tokenLosses(tokens)
    expect(Array.from(losses.dataSync()).every(Number.isFinite)).toBe(true)
    tf.dispose([tokens, losses])
    model.dispose()
  })

  it("counts parameters with and without the embeddings", () => {
    const model = Decoder.create(config, nope(shapeOf(config)), 9)
    const d = 32,
      F = 128,
      V = 256,
      L = 2
    const blocks = L * (4 * d * d + 3 * d * F + 2 * d) + d
    expect(model.parameterCount({ includeEmbeddings: false })).toBe(blocks)
    expect(model.parameterCount()).toBe(blocks + 2 * V * d)
    model.dispose()
  })

  it("keeps no tensors after forward passes", () => {
    const model = Decoder.create(config, rope(shapeOf(config)), 10)
    const tokens = randomTokens(2, 9, 4)
    tf.dispose(model.loss(tokens)) // warm the causal-mask cache
    const before = tf.memory().numTensors
    for (let i = 0; i < 3; i++) tf.dispose(model.loss(tokens))
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose(tokens)
    model.dispose()
  })

  it("gather and one-hot token lookups give the same losses (and close gradients)", () => {
    expect(lookupMode()).toBe("gather") // the cpu backend has UnsortedSegmentSum
    const model = Decoder.create(config, rope(shapeOf(config)), 12)
    const tokens = randomTokens(2, 9, 6)
    const a = model.tokenLosses(tokens, { lookup: "gather" })
    const b = model.tokenLosses(tokens, { lookup: "onehot" })
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()))
    const vars = model.trainableVariables as tf.Variable[]
    const ga = tf.variableGrads(() => model.loss(tokens, { lookup: "gather" }), vars)
    const gb = tf.variableGrads(() => model.loss(tokens, { lookup: "onehot" }), vars)
    for (const v of vars) expect(tf.max(tf.abs(ga.grads[v.name]!.sub(gb.grads[v.name]!))).dataSync()[0]).toBeLessThan(1e-6)
    tf.dispose([tokens, a, b, ga.value, gb.value, ...Object.values(ga.grads), ...Object.values(gb.grads)])
    model.dispose()
  })
})

describe("evaluation memory", () => {
  beforeAll(useCpu)

  it("a forward pass without a gradient tape holds one block's intermediates at a time, not every layer's", () => {
    const config: DecoderConfig = { vocabSize: 64, dModel: 32, heads: 4, layers: 6, ffnHidden: 128, trainLength: 64 }
    const model = Decoder.create(config, rope(shapeOf(config)), 0)
    const tokens = tf.tensor2d(
      Array.from({ length: 2 * 64 }, (_, i) => i % 64),
      [2, 64],
      "int32"
    )
    const bytesAtLayer: number[] = []
    tf.tidy(() => model.logits(tokens, { onQueryKey: () => void bytesAtLayer.push(tf.memory().numBytes) }))
    expect(bytesAtLayer).toHaveLength(6)
    // each block's scores, softmax and MLP activations are freed before the next block starts: the memory seen at the
    // last block's attention is within one residual stream of the first block's
    const residual = 2 * 64 * 32 * 4
    expect(bytesAtLayer[5]! - bytesAtLayer[0]!).toBeLessThanOrEqual(5 * residual)
    tokens.dispose()
    model.dispose()
  })
})
