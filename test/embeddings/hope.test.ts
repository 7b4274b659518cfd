/** HoPE (embeddings/hope.ts): the split rule, a pure rotation on kept pairs, and how it differs from p-RoPE and FoPE. */
import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { hopeKeptPairs } from "../../embeddings/hope.js"
import { createEmbedding } from "../../embeddings/registry.js"
import { floorClip, ropeFrequencies } from "../../embeddings/rotary-frequencies.js"
import { randomTensor, shapeOf, useCpu } from "./helpers.js"

beforeAll(useCpu)

const nonZero = (xs: ReadonlyArray<number>): number => xs.filter((x) => x !== 0).length

describe("hope", () => {
  it("keeps the pairs with w_k * L >= 2*pi*minPeriods: d 32, b 10000 -> 6 pairs at L 128, 12 at L 4096", () => {
    // w_5 = 10000^(-5/16) = 0.0562 >= 2*pi/128 = 0.0491 > w_6 = 0.0316
    expect(hopeKeptPairs(32, 10000, 128, 1)).toBe(6)
    expect(hopeKeptPairs(32, 10000, 4096, 1)).toBe(12)
    expect(hopeKeptPairs(32, 10000, 128, 2)).toBe(5) // w_5 * 128 = 7.2 < 4*pi
    expect(hopeKeptPairs(32, 10000, 128, 0)).toBe(16)
  })

  it("differs from p-RoPE: the number of kept pairs follows L, p-RoPE's fraction does not", () => {
    for (const [L, hopeKept] of [
      [128, 6],
      [4096, 12]
    ] as const) {
      const shape = shapeOf({ headDim: 32, heads: 2, trainLength: L })
      const h = createEmbedding({ name: "hope", params: {} }, shape, 1)
      const p = createEmbedding({ name: "p-rope", params: { p: 0.75 } }, shape, 1)
      expect(nonZero(h.describeSpectrum().pairFrequencies)).toBe(hopeKept)
      expect(nonZero(p.describeSpectrum().pairFrequencies)).toBe(12)
      h.dispose()
      p.dispose()
    }
  })

  it("is a pure rotation on kept pairs and the identity on the others", () => {
    const shape = shapeOf({ headDim: 32, heads: 2, trainLength: 128 })
    const h = createEmbedding({ name: "hope", params: {} }, shape, 1)
    const q = randomTensor([1, 2, 20, 32], 3) as tf.Tensor4D
    const [out] = h.queryKey!(q, q, 0)
    const x = q.arraySync()[0]![1]!
    const y = out.arraySync()[0]![1]!
    const w = ropeFrequencies(32, 10000)
    for (const t of [0, 7, 19]) {
      for (let k = 0; k < 16; k++) {
        const a = k < 6 ? t * w[k]! : 0
        expect(y[t]![k]).toBeCloseTo(x[t]![k]! * Math.cos(a) - x[t]![k + 16]! * Math.sin(a), 5)
        expect(y[t]![k + 16]).toBeCloseTo(x[t]![k + 16]! * Math.cos(a) + x[t]![k]! * Math.sin(a), 5)
      }
    }
    tf.dispose([q, out])
    h.dispose()
  })

  it("differs from FoPE's floor clip: same kept frequencies at L, but no Fourier mixing and no re-clip under YaRN", () => {
    const shape = shapeOf({ headDim: 32, heads: 2, trainLength: 128 })
    const h = createEmbedding({ name: "hope", params: {} }, shape, 1)
    const f = createEmbedding({ name: "fope", params: {} }, shape, 1)
    const kept = floorClip(ropeFrequencies(32, 10000), 128).kept
    expect(h.describeSpectrum().kept).toEqual(kept)
    expect(f.describeSpectrum().kept).toEqual(kept)
    // FoPE mixes the kept frequencies into every pair: its output is not HoPE's rotation
    const q = randomTensor([1, 2, 16, 32], 4) as tf.Tensor4D
    const [hq] = h.queryKey!(q, q, 0)
    const [fq] = f.queryKey!(q, q, 0)
    expect(tf.max(tf.abs(tf.sub(hq, fq))).dataSync()[0]!).toBeGreaterThan(1e-2)
    // under YaRN at 4L, FoPE clips at the new floor (more survivors); HoPE's split stays the training one
    const hy = h.extend({ method: "yarn" }, 512)
    const fy = f.extend({ method: "yarn" }, 512)
    expect(nonZero(hy.describeSpectrum().pairFrequencies)).toBe(6)
    expect(fy.describeSpectrum().kept.length).toBeGreaterThan(6)
    tf.dispose([q, hq, fq])
    for (const e of [hy, fy, h, f]) e.dispose()
  })
})
