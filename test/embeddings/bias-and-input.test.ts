/** Bias-family matrices and input-family signals against their definitions. */
import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { alibiSlopes } from "../../embeddings/alibi.js"
import { causalToeplitz } from "../../embeddings/bias-toeplitz.js"
import { EmbeddingError } from "../../embeddings/interface.js"
import { createEmbedding } from "../../embeddings/registry.js"
import { t5Bucket } from "../../embeddings/t5-bias.js"
import { shapeOf, useCpu } from "./helpers.js"

beforeAll(useCpu)
const shape = shapeOf({ headDim: 8, heads: 4, layers: 2, trainLength: 16 })

const named = (e: ReturnType<typeof createEmbedding>, name: string): number[] =>
  Array.from(e.trainable[e.trainableNames!.indexOf(name)]!.dataSync())

describe("bias family", () => {
  it("the Toeplitz layout puts values[h, i-j] at (i, j), zero above the diagonal", () => {
    const v = tf.tensor2d([
      [1, 2, 3, 4],
      [5, 6, 7, 8]
    ])
    const m = causalToeplitz(v).arraySync()
    expect(m[0]).toEqual([
      [1, 0, 0, 0],
      [2, 1, 0, 0],
      [3, 2, 1, 0],
      [4, 3, 2, 1]
    ])
    expect(m[1]![3]).toEqual([8, 7, 6, 5])
    expect(causalToeplitz(tf.tensor2d([[9]])).arraySync()).toEqual([[[9]]])
  })

  it("ALiBi: -m_h*(i-j)", () => {
    const e = createEmbedding({ name: "alibi" }, shape, 0)
    const b = e.scoreBias!(9, 1).arraySync()
    const m = alibiSlopes(4)
    expect(b[2]![8]![3]).toBeCloseTo(-m[2]! * 5, 7)
    expect(b[0]![4]![4]).toBe(0)
    e.dispose()
  })

  it("KERPLE log and power follow their formulas with the clamps", () => {
    const log = createEmbedding({ name: "kerple-log" }, shape, 5)
    const r1 = named(log, "r1").map((x) => Math.max(x, 0.01))
    const r2 = named(log, "r2").map((x) => Math.max(x, 0.01))
    const b = log.scoreBias!(10, 0).arraySync()
    for (let h = 0; h < 4; h++) expect(b[h]![9]![2]).toBeCloseTo(-r1[h]! * Math.log(1 + r2[h]! * 7), 5)
    // shared by all layers
    expect(log.scoreBias!(10, 1).arraySync()).toEqual(b)
    log.dispose()
    const pow = createEmbedding({ name: "kerple-power" }, shape, 5)
    const p1 = named(pow, "r1").map((x) => Math.max(x, 0.01))
    const p2 = named(pow, "r2").map((x) => Math.min(Math.max(x, 0.01), 2))
    const c = pow.scoreBias!(10, 0).arraySync()
    for (let h = 0; h < 4; h++) expect(c[h]![6]![1]).toBeCloseTo(-p1[h]! * Math.pow(5, p2[h]!), 4)
    pow.dispose()
  })

  it("T5: w_h[bucket(i-j)], shared by all layers", () => {
    const e = createEmbedding({ name: "t5" }, shape, 2)
    const w = named(e, "weights") // [H, 32]
    const T = 200
    const b = e.scoreBias!(T, 1).arraySync()
    for (const [i, j] of [
      [0, 0],
      [20, 0],
      [199, 60],
      [199, 0],
      [150, 149]
    ] as const) {
      expect(b[3]![i]![j]).toBeCloseTo(w[3 * 32 + t5Bucket(i - j)]!, 6)
    }
    e.dispose()
  })

  it("FIRE: MLP(psi(i-j)/psi(max(Lhat, i))) per layer", () => {
    const e = createEmbedding({ name: "fire" }, shape, 4)
    const T = 24 // beyond L = 16, so the normaliser uses i for i > Lhat
    const b1 = e.scoreBias!(T, 1).arraySync()
    const b0 = e.scoreBias!(T, 0).arraySync()
    expect(b1).not.toEqual(b0) // one module per layer
    const c = named(e, "layer1/c")[0]!
    const lMult = named(e, "layer1/lMult")[0]!
    const w1 = named(e, "layer1/w1")
    const bb1 = named(e, "layer1/b1")
    const w2 = named(e, "layer1/w2") // [32, H]
    const bb2 = named(e, "layer1/b2")
    const psi = (x: number) => Math.log(Math.abs(c * x) + 1)
    for (const [i, j] of [
      [5, 2],
      [23, 4],
      [23, 23]
    ] as const) {
      const x = psi(i - j) / (psi(Math.max(Math.abs(lMult * 16), i)) + 1e-6)
      for (let h = 0; h < 4; h++) {
        let out = bb2[h]!
        for (let u = 0; u < 32; u++) out += Math.max(0, x * w1[u]! + bb1[u]!) * w2[u * 4 + h]!
        expect(b1[h]![i]![j]).toBeCloseTo(out, 4)
      }
    }
    e.dispose()
  })
})

describe("input family", () => {
  it("sinusoidal: PE(p, 2k) = sin(p/10000^(2k/d)), PE(p, 2k+1) = cos(...)", () => {
    const e = createEmbedding({ name: "sinusoidal" }, shape, 0)
    const pe = e.input!(20).arraySync()
    const d = shape.dModel
    expect(pe[13]![4]).toBeCloseTo(Math.sin(13 / Math.pow(10000, 4 / d)), 5)
    expect(pe[13]![5]).toBeCloseTo(Math.cos(13 / Math.pow(10000, 4 / d)), 5)
    e.dispose()
  })

  it("learned absolute: maxLength is its table; beyond it fails clearly, never clamps", () => {
    const e = createEmbedding({ name: "learned" }, shape, 0)
    expect(e.maxLength).toBe(16)
    expect(e.input!(16).shape).toEqual([16, shape.dModel])
    let message = ""
    try {
      e.input!(17)
    } catch (err) {
      expect(err).toBeInstanceOf(EmbeddingError)
      message = (err as Error).message
    }
    expect(message).toMatch(/16 positions/)
    expect(message).toMatch(/asked for 17/)
    expect(message).toMatch(/not applicable/)
    // a view keeps the limit
    const v = e.extend({ method: "none" }, 64)
    expect(v.maxLength).toBe(16)
    expect(() => v.input!(64)).toThrow(EmbeddingError)
    v.dispose()
    e.dispose()
    const big = createEmbedding({ name: "learned", params: { tableLength: 64 } }, shape, 0)
    expect(big.maxLength).toBe(64)
    const std = tf.tidy(() => tf.moments(big.trainable[0]!).variance.sqrt().dataSync()[0]!)
    expect(std).toBeGreaterThan(0.015)
    expect(std).toBeLessThan(0.025)
    big.dispose()
  })
})
