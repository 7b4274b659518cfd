/** The position embeddings' test vectors (from their papers' definitions), checked against the implementation. */
import { describe, expect, it } from "vitest"
import { alibiSlopes } from "../../embeddings/alibi.js"
import { dynamicNtkBase, ntkBase, ropeFrequencies, yarnFrequencies, yarnMscale, yarnRange } from "../../embeddings/rotary-frequencies.js"
import { t5Bucket } from "../../embeddings/t5-bias.js"

describe("spec vectors", () => {
  it("ALiBi slopes for H = 4, 6, 8", () => {
    expect(alibiSlopes(4)).toEqual([0.25, 0.0625, 0.015625, 0.00390625])
    expect(alibiSlopes(6)).toEqual([0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125])
    expect(alibiSlopes(8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((e) => Math.pow(2, -e)))
  })

  it("T5 causal buckets (32 buckets, max distance 128)", () => {
    const distances = [0, 1, 15, 16, 20, 32, 64, 127, 128, 1000]
    expect(distances.map((r) => t5Bucket(r))).toEqual([0, 1, 15, 16, 17, 21, 26, 31, 31, 31])
  })

  it("NTK-aware base: d = 32, s = 4 -> 43873.0", () => {
    expect(ntkBase(10000, 32, 4)).toBeCloseTo(43873.0, 0)
  })

  it("dynamic-NTK base: d = 32, L = 128, s = 4, l = 512 -> 154243.3; unchanged at l <= L", () => {
    expect(dynamicNtkBase(10000, 32, 128, 4, 512)).toBeCloseTo(154243.3, 0)
    expect(dynamicNtkBase(10000, 32, 128, 4, 128)).toBe(10000)
  })

  it("YaRN: d = 32, L = 128, s = 4 -> lo 0, hi 6, mscale 1.138629 and the first frequencies", () => {
    expect(yarnRange(32, 10000, 128)).toEqual({ lo: 0, hi: 6 })
    expect(yarnMscale(4)).toBeCloseTo(1.138629, 6)
    const w = yarnFrequencies(ropeFrequencies(32, 10000), 4, 32, 10000, 128)
    const expected = [1.0, 0.492049, 0.237171, 0.111142, 0.05, 0.0210878, 0.00790569, 0.0044457]
    expected.forEach((e, k) => expect(w[k]!).toBeCloseTo(e, 6))
  })
})
