/**
 * The mechanisms that act inside attention (interface.ts, inputBias / normalise): the Forgetting Transformer's
 * forget-gate bias and stick-breaking attention, each against a naive loop over its definition, in row blocks,
 * inside the decoder (blocked = unblocked), and on wasm.
 */
import * as tf from "@tensorflow/tfjs"
import "@tensorflow/tfjs-backend-wasm"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cumulativeLogForget, forgetBiasBlock } from "../../embeddings/forgetting-transformer.js"
import { createEmbedding } from "../../embeddings/registry.js"
import { SeededRandom } from "../../embeddings/seeded-random.js"
import { stickBreakingWeights } from "../../embeddings/stick-breaking.js"
import { Decoder, type DecoderConfig } from "../../models/decoder.js"
import { maxAbsDiff, randomTensor, useCpu } from "./helpers.js"

beforeAll(useCpu)
afterAll(useCpu)

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x))

/** A_ij = beta_ij prod_{j<k<i} (1 - beta_ik) for j < i, the rest on the diagonal: [rows][keys], float64 loops. */
const naiveStickBreaking = (z: number[][]): number[][] =>
  z.map((row, i) => {
    const out = row.map(() => 0)
    for (let j = 0; j < i; j++) {
      let a = sigmoid(row[j]!)
      for (let k = j + 1; k < i; k++) a *= 1 - sigmoid(row[k]!)
      out[j] = a
    }
    if (i < row.length) out[i] = 1 - out.reduce((s, x) => s + x, 0)
    return out
  })

describe("forgetting transformer bias", () => {
  it("equals sum_{l=j+1..i} log sigmoid(w.x_l + b) from a naive loop, in any row block", () => {
    const [B, T, d, H] = [2, 7, 8, 3]
    const h = randomTensor([B, T, d], 1) as tf.Tensor3D
    const gate = { w: tf.variable(randomTensor([d, H], 2)), b: tf.variable(randomTensor([H], 3)) }
    const hv = h.arraySync()
    const wv = gate.w.arraySync() as number[][]
    const bv = gate.b.arraySync() as number[]
    const logF = (b: number, l: number, hh: number): number => {
      let s = bv[hh]!
      for (let i = 0; i < d; i++) s += hv[b]![l]![i]! * wv[i]![hh]!
      return Math.log(sigmoid(s))
    }
    const c = cumulativeLogForget(h, gate)
    for (const [start, end] of [
      [0, T],
      [3, 7],
      [2, 3]
    ] as const) {
      const block = forgetBiasBlock(c, start, end).arraySync()
      for (let b = 0; b < B; b++)
        for (let hh = 0; hh < H; hh++)
          for (let r = 0; r < end - start; r++) {
            const i = start + r
            for (let j = 0; j <= i; j++) {
              let expected = 0
              for (let l = j + 1; l <= i; l++) expected += logF(b, l, hh)
              expect(block[b]![hh]![r]![j]).toBeCloseTo(expected, 5)
            }
          }
    }
    tf.dispose([h, c, gate.w, gate.b])
  })
})

describe("stick-breaking weights", () => {
  const logits = (): tf.Tensor4D => randomTensor([1, 2, 6, 6], 4).mul(3) as tf.Tensor4D

  it("equal the naive product over the definition, rows sum to 1, and row blocks agree with the whole", () => {
    const z = logits()
    const full = stickBreakingWeights(z, 0).arraySync()
    const zv = z.arraySync()
    for (let h = 0; h < 2; h++) {
      const expected = naiveStickBreaking(zv[0]![h]!)
      full[0]![h]!.forEach((row, i) => {
        row.forEach((x, j) => expect(x).toBeCloseTo(expected[i]![j]!, 6))
        expect(row.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 6)
        row.forEach((x, j) => (j > i ? expect(x).toBe(0) : expect(x).toBeGreaterThanOrEqual(0)))
      })
    }
    // rows 2..3 against keys 0..3, as the decoder's blocks ask
    const block = stickBreakingWeights(z.slice([0, 0, 2, 0], [1, 2, 2, 4]) as tf.Tensor4D, 2)
    expect(maxAbsDiff(block, tf.tensor(full).slice([0, 0, 2, 0], [1, 2, 2, 4]))).toBeLessThan(1e-7)
  })

  it("limits: zero logits give 2^-(i-j) to key j < i; very negative logits leave all to the query itself", () => {
    const zero = stickBreakingWeights(tf.zeros([1, 1, 5, 5]) as tf.Tensor4D, 0).arraySync()[0]![0]!
    expect(zero[4]!.slice(0, 4)).toEqual([1 / 16, 1 / 8, 1 / 4, 1 / 2].map((x) => expect.closeTo(x, 7)))
    expect(zero[4]![4]).toBeCloseTo(1 / 16, 7)
    const shut = stickBreakingWeights(tf.fill([1, 1, 4, 4], -60) as tf.Tensor4D, 0).arraySync()[0]![0]!
    shut.forEach((row, i) => expect(row[i]).toBeCloseTo(1, 6))
  })

  it("has finite gradients at extreme logits (log space)", () => {
    const extreme = tf.tensor4d([80, -80, 3, -90, 50, 0, 70, -70, 5], [1, 1, 3, 3])
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(stickBreakingWeights(x as tf.Tensor4D, 0))))(extreme)
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true)
  })

  it("gives the same weights on wasm as on cpu", async () => {
    const z = logits()
    const cpu = stickBreakingWeights(z, 0).arraySync()
    await tf.setBackend("wasm")
    await tf.ready()
    const zw = tf.tensor(z.arraySync()) as tf.Tensor4D
    const wasm = stickBreakingWeights(zw, 0)
    expect(maxAbsDiff(wasm, tf.tensor(cpu))).toBeLessThan(1e-6)
    await useCpu()
  })
})

describe("inside the decoder", () => {
  const config: DecoderConfig = { vocabSize: 16, dModel: 16, heads: 2, layers: 2, ffnHidden: 32, trainLength: 16 }
  const shape = { dModel: 16, heads: 2, headDim: 8, layers: 2, trainLength: 16 }
  const rng = SeededRandom.create(8, "attention-mechanisms/tokens")
  const ids = Array.from({ length: 2 * 24 }, () => rng.int(16))

  it.each([
    ["fox", {}],
    ["fox", { rope: true }],
    ["stick-breaking", {}]
  ] as const)("%s %j: row blocks give the unblocked logits", (name, params) => {
    const model = Decoder.create(config, createEmbedding({ name, params }, shape, 1), 1)
    const tokens = tf.tensor2d(ids, [2, 24], "int32")
    const whole = model.logits(tokens)
    for (const queryChunk of [1, 5, 16]) {
      const blocked = model.logits(tokens, { queryChunk })
      expect(maxAbsDiff(whole, blocked), `queryChunk ${queryChunk}`).toBeLessThan(1e-5)
      blocked.dispose()
    }
    tf.dispose([whole, tokens])
    model.dispose()
  })

  it("FoX with gates held open (f = 1) is NoPE exactly; with RoPE, RoPE", () => {
    for (const [params, plain] of [
      [{}, "nope"],
      [{ rope: true }, "rope"]
    ] as const) {
      const fox = createEmbedding({ name: "fox", params }, shape, 1)
      for (const v of fox.trainable) if (v.shape.length === 1) v.assign(tf.fill(v.shape, 200)) // b = 200: log f = 0 in float32
      for (const v of fox.trainable) if (v.shape.length === 2) v.assign(tf.zerosLike(v))
      const a = Decoder.create(config, fox, 1)
      const b = Decoder.create(config, createEmbedding({ name: plain, params: {} }, shape, 1), 1)
      const tokens = tf.tensor2d(ids, [2, 24], "int32")
      expect(maxAbsDiff(a.logits(tokens), b.logits(tokens)), plain).toBeLessThan(1e-6)
      tokens.dispose()
      a.dispose()
      b.dispose()
    }
  })
})

describe("inspect", () => {
  it("shows stick-breaking's weights for zero logits and FoX's input-dependent bias", async () => {
    const { inspectEmbedding, renderInspection } = await import("../../embeddings/inspect.js")
    const sb = inspectEmbedding({ name: "stick-breaking", headDim: 8, heads: 2, trainLength: 16, length: 5, seed: 0 })
    expect(sb.attention![0]!.weights![4]).toEqual([1 / 16, 1 / 8, 1 / 4, 1 / 2, 1 / 16].map((x) => expect.closeTo(x, 6)))
    const fox = inspectEmbedding({ name: "fox", params: { rope: true }, headDim: 8, heads: 2, trainLength: 16, length: 5, seed: 0 })
    const bias = fox.attention![0]!.bias!
    bias.forEach((row, i) => {
      expect(row[i]).toBe(0) // nothing forgotten between a token and itself
      for (let j = 1; j <= i; j++) expect(row[j - 1]!).toBeLessThan(row[j]!) // log f < 0: older keys lose more
    })
    expect(fox.rotaryTables).toHaveLength(1)
    expect(renderInspection(fox)).toContain("input-dependent bias")
  })
})
