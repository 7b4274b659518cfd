/** FoPE's coefficients: noise std, step identity, seeding per layer (position-embeddings.md, "FoPE", step 4). */
import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { fopeNoiseStd, fopeStepIdentity } from "../../embeddings/fope-coefficients.js"
import { createEmbedding } from "../../embeddings/registry.js"
import { shapeOf, useCpu } from "./helpers.js"

beforeAll(useCpu)

const coefficients = (
  seed: number,
  layers = 2,
  params: Record<string, unknown> = {},
  shape = shapeOf({ headDim: 32, heads: 4, layers })
) => {
  const e = createEmbedding({ name: "fope", params }, shape, seed)
  const out = Object.fromEntries(Object.entries(e.fixed).map(([n, t]) => [n, Array.from(t.dataSync())]))
  e.dispose()
  return out
}

describe("FoPE coefficients", () => {
  it("noise std matches sigma*sqrt(2/(K*dOut + H*dOut)) (chi-square on 65,536 draws)", () => {
    // headDim 64, clip off: K = 32, dOut = 16; H = 64 -> 32,768 draws per tensor, cos and sin -> N = 65,536.
    const H = 64
    const sigma = 0.3
    const shape = shapeOf({ headDim: 64, heads: H, layers: 1 })
    const e = createEmbedding({ name: "fope", params: { sigma, clip: false } }, shape, 11)
    const K = 32
    const dOut = 16
    const std = fopeNoiseStd(sigma, H, K, dOut)
    expect(std).toBeCloseTo(0.3 * Math.sqrt(2 / (32 * 16 + 64 * 16)), 12) // = 0.010825, far from sigma itself
    const E = fopeStepIdentity(K, dOut)
    let sumSq = 0
    let sum = 0
    let n = 0
    for (const name of ["layer0/cosCoef", "layer0/sinCoef"]) {
      const t = e.fixed[name]!
      expect(t.shape).toEqual([H, K, dOut])
      const values = t.dataSync()
      for (let i = 0; i < values.length; i++) {
        const z = (values[i]! - E[i % (K * dOut)]!) / std
        sumSq += z * z
        sum += z
        n++
      }
    }
    e.dispose()
    // Under H0 (noise ~ N(0, std^2)) sumSq ~ chi2(n): mean n, sd sqrt(2n). |z| < 4.5 fails with probability ~7e-6
    // under H0, while a 2% error in std already moves z by about 0.04*n/sqrt(2n) = 7.2: the test has power.
    const chi = (sumSq - n) / Math.sqrt(2 * n)
    expect(Math.abs(chi)).toBeLessThan(4.5)
    expect(Math.abs(Math.sqrt(sumSq / n) - 1)).toBeLessThan(0.015)
    // and the mean of the noise is 0 (standard error 1/sqrt(n))
    expect(Math.abs(sum / n) * Math.sqrt(n)).toBeLessThan(4.5)
  })

  it("step identity: E[i*st, i] = 1 with st = ceil(K/dOut), identity when K == dOut", () => {
    expect(Array.from(fopeStepIdentity(3, 3))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1])
    // K = 5, dOut = 2: st = 3 -> E[0,0] = 1, E[3,1] = 1
    expect(Array.from(fopeStepIdentity(5, 2))).toEqual([1, 0, 0, 0, 0, 0, 0, 1, 0, 0])
    // K = 7, dOut = 3: st = 3 -> rows 0, 3, 6
    const e = fopeStepIdentity(7, 3)
    expect([e[0 * 3 + 0], e[3 * 3 + 1], e[6 * 3 + 2]]).toEqual([1, 1, 1])
    expect(Array.from(e).reduce((a, b) => a + b, 0)).toBe(3)
  })

  it("same seed -> same coefficients; different layers and different seeds -> different", () => {
    const a = coefficients(7)
    const b = coefficients(7)
    const c = coefficients(8)
    expect(a).toEqual(b)
    expect(Object.keys(a).sort()).toEqual(["layer0/cosCoef", "layer0/sinCoef", "layer1/cosCoef", "layer1/sinCoef"])
    expect(a["layer0/cosCoef"]).not.toEqual(a["layer1/cosCoef"])
    expect(a["layer0/cosCoef"]).not.toEqual(a["layer0/sinCoef"])
    expect(a["layer0/cosCoef"]).not.toEqual(c["layer0/cosCoef"])
  })

  it("fixed by default (not variables), trainable when learnable", () => {
    const shape = shapeOf({ headDim: 32, heads: 2, layers: 2 })
    const fixed = createEmbedding({ name: "fope", params: {} }, shape, 1)
    expect(fixed.trainable).toHaveLength(0)
    expect(Object.keys(fixed.fixed)).toHaveLength(4)
    for (const t of Object.values(fixed.fixed)) expect(t instanceof tf.Variable).toBe(false)
    const learnable = createEmbedding({ name: "fope", params: { learnable: true } }, shape, 1)
    expect(Object.keys(learnable.fixed)).toHaveLength(0)
    expect(learnable.trainableNames).toEqual(["layer0/cosCoef", "layer0/sinCoef", "layer1/cosCoef", "layer1/sinCoef"])
    // same numbers either way
    expect(Array.from(learnable.trainable[0]!.dataSync())).toEqual(Array.from(fixed.fixed["layer0/cosCoef"]!.dataSync()))
    fixed.dispose()
    learnable.dispose()
  })

  it("dispose frees every tensor it made", () => {
    const before = tf.memory().numTensors
    const e = createEmbedding({ name: "fope", params: {} }, shapeOf({ headDim: 32, heads: 2, layers: 3 }), 1)
    const q = tf.zeros([1, 2, 8, 32]) as tf.Tensor4D
    tf.tidy(() => {
      for (let l = 0; l < 3; l++) e.queryKey!(q, q, l)
    })
    q.dispose()
    e.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })
})
