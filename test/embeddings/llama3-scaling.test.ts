/** Llama 3 rope scaling (rotary-frequencies.ts, `llama3Frequencies`): vectors from the reference definition. */
import { beforeAll, describe, expect, it } from "vitest"
import { probeRotaryTables } from "../../embeddings/inspect.js"
import { EmbeddingError } from "../../embeddings/interface.js"
import { createEmbedding } from "../../embeddings/registry.js"
import { llama3Frequencies, ropeFrequencies } from "../../embeddings/rotary-frequencies.js"
import { shapeOf, useCpu } from "./helpers.js"

beforeAll(useCpu)

/**
 * The reference's masked form, transcribed step by step (transformers `_compute_llama3_parameters`):
 * interpolate where wavelength > low_freq_wavelen, then overwrite the medium band with the smoothed value.
 */
const reference = (w: Float64Array, factor: number, old: number, low: number, high: number): number[] => {
  const lowWavelen = old / low
  const highWavelen = old / high
  return Array.from(w, (f) => {
    const wavelen = (2 * Math.PI) / f
    let out = wavelen > lowWavelen ? f / factor : f
    const smooth = (old / wavelen - low) / (high - low)
    const smoothed = ((1 - smooth) * out) / factor + smooth * out
    const medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen)
    if (medium) out = smoothed
    return out
  })
}

describe("llama3 rope scaling", () => {
  it("d 8, b 10000, L 16, s 4, factors 1 / 4: w' = [2/pi, 0.025, 0.0025, 0.00025]", () => {
    const w = llama3Frequencies(ropeFrequencies(8, 10000), 4, 16, 1, 4)
    // pair 0: wavelength 2*pi lies between 16/4 and 16/1; g = (16/(2*pi) - 1)/3; (1-g)/4 + g = 4/(2*pi) = 2/pi
    expect(w[0]).toBeCloseTo(2 / Math.PI, 14)
    expect(Array.from(w.slice(1))).toEqual([0.1 / 4, 0.01 / 4, 0.001 / 4].map((x, i) => expect.closeTo(x, 15 - i)))
  })

  it("agrees with the reference's masked form on a 64-wide grid over several factors", () => {
    for (const [factor, low, high, L] of [
      [8, 1, 4, 128],
      [4, 1, 4, 64],
      [2, 2, 8, 256],
      [16, 1, 32, 512]
    ] as const) {
      const grid = ropeFrequencies(64, 10000)
      const ours = llama3Frequencies(grid, factor, L, low, high)
      const ref = reference(grid, factor, L, low, high)
      ours.forEach((x, k) => expect(x).toBeCloseTo(ref[k]!, 14))
      // the three bands all occur on this grid: some kept, some interpolated, some in between
      const kept = ours.filter((x, k) => x === grid[k]).length
      const divided = ours.filter((x, k) => Math.abs(x - grid[k]! / factor) < 1e-18).length
      expect(kept).toBeGreaterThan(0)
      expect(divided).toBeGreaterThan(0)
    }
  })

  it("is the identity at factor 1 and monotone between the bands", () => {
    const grid = ropeFrequencies(32, 10000)
    llama3Frequencies(grid, 1, 128).forEach((x, k) => expect(x).toBeCloseTo(grid[k]!, 15))
    const w = llama3Frequencies(grid, 8, 128)
    for (let k = 0; k < w.length; k++) {
      expect(w[k]!).toBeLessThanOrEqual(grid[k]!)
      expect(w[k]!).toBeGreaterThanOrEqual(grid[k]! / 8 - 1e-18)
    }
  })

  it("the rope view uses the scaled grid (factor = L'/L by default) and rejects bad factors", () => {
    const shape = shapeOf({ headDim: 32, heads: 2, trainLength: 128 })
    const e = createEmbedding({ name: "rope", params: {} }, shape, 1)
    const view = e.extend({ method: "llama3" }, 512)
    const expected = llama3Frequencies(ropeFrequencies(32, 10000), 4, 128)
    view.describeSpectrum().pairFrequencies.forEach((x, k) => expect(x).toBeCloseTo(expected[k]!, 14))
    expect(view.describeSpectrum().notes).toMatchObject({ extension: "llama3", factor: 4, lowFreqFactor: 1, highFreqFactor: 4 })
    expect(probeRotaryTables(view, 40, 0).q.cos[0]![33]![9]).toBeCloseTo(Math.cos(33 * expected[9]!), 5)
    const fixed = e.extend({ method: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4 }, 256)
    expect(fixed.describeSpectrum().pairFrequencies[15]).toBeCloseTo(ropeFrequencies(32, 10000)[15]! / 8, 15)
    expect(() => e.extend({ method: "llama3", lowFreqFactor: 4, highFreqFactor: 4 }, 256)).toThrow(EmbeddingError)
    expect(() => e.extend({ method: "llama3", factor: 0.5 }, 256)).toThrow(/factor >= 1/)
    for (const v of [view, fixed]) v.dispose()
    e.dispose()
  })

  it("is refused outside the rotary family with the list of extensions", () => {
    const e = createEmbedding({ name: "alibi", params: {} }, shapeOf({ headDim: 8, heads: 2 }), 1)
    expect(() => e.extend({ method: "llama3" }, 512)).toThrow(/llama3/)
    e.dispose()
  })
})
