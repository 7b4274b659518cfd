/** CoPE, Clipped RoPE (embeddings/clipped-rope.ts): the released code's half-cosine mask, vectors and the hard variant. */
import { beforeAll, describe, expect, it } from "vitest"
import { copeMask } from "../../embeddings/clipped-rope.js"
import { createEmbedding } from "../../embeddings/registry.js"
import { ropeFrequencies } from "../../embeddings/rotary-frequencies.js"
import { shapeOf, useCpu } from "./helpers.js"

beforeAll(useCpu)

describe("cope", () => {
  it("mask: 1 above the n lowest pairs, then 0.5*(1 + cos(linspace(0, pi, n))); n = 1 keeps the pair; hard sets zeros", () => {
    expect(Array.from(copeMask(4, 3, false))).toEqual([1, 1, 0.5, 0].map((x) => expect.closeTo(x, 15)))
    expect(Array.from(copeMask(64, 20, false)).slice(44, 47)).toEqual(
      [1, 0.5 * (1 + Math.cos(Math.PI / 19)), 0.5 * (1 + Math.cos((2 * Math.PI) / 19))].map((x) => expect.closeTo(x, 15))
    )
    expect(copeMask(64, 20, false)[63]).toBeCloseTo(0, 15)
    expect(Array.from(copeMask(4, 1, false))).toEqual([1, 1, 1, 1])
    expect(Array.from(copeMask(4, 3, true))).toEqual([1, 0, 0, 0])
    expect(Array.from(copeMask(4, 9, false))).toEqual(
      [1, 0.5, 0, 0].map((_, m) => expect.closeTo(0.5 * (1 + Math.cos((m * Math.PI) / 3)), 15))
    )
  })

  it("d 8, b 10000, n 3 (fraction 3/4): w' = [1, 0.1, 0.005, 0]; default fraction 20/64 clips 5 of 16 pairs", () => {
    const e = createEmbedding({ name: "cope", params: { fraction: 0.75 } }, shapeOf({ headDim: 8, heads: 2 }), 0)
    expect(e.describeSpectrum().pairFrequencies).toEqual([1, 0.1, 0.005, 0].map((x) => expect.closeTo(x, 12)))
    expect(e.describeSpectrum().clipped).toEqual([expect.closeTo(0.001, 12)])
    e.dispose()
    const d = createEmbedding({ name: "cope", params: {} }, shapeOf({ headDim: 32, heads: 2 }), 0)
    const w = ropeFrequencies(32, 10000)
    const got = d.describeSpectrum().pairFrequencies
    got.slice(0, 11).forEach((x, k) => expect(x).toBeCloseTo(w[k]!, 15))
    expect(got[11]).toBeCloseTo(w[11]!, 15) // the first clipped pair keeps its frequency (cos 0 = 1)
    expect(got[13]).toBeCloseTo(w[13]! * 0.5, 15)
    expect(got[15]).toBe(0)
    d.dispose()
  })
})
