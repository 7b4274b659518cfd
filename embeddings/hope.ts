/**
 * HoPE, High-frequency rotary Position Encoding (Chen et al. 2024, "HoPE: A Novel Positional Encoding Without
 * Long-Term Decay for Enhanced Context Awareness and Extrapolation", arXiv 2410.21216, ACL 2025): RoPE whose
 * low-frequency components are replaced by position-independent ones (frequency 0: C = 1, S = 0), so only
 * high-frequency rotations remain and the score has no long-term decay.
 *
 * The split: pair k keeps its RoPE frequency when it completes at least `minPeriods` full periods inside the
 * training length L, `w_k * L >= 2*pi*minPeriods`; every other pair is position-independent. The paper motivates
 * the cut by the components that cannot finish a period inside L (its "activated" low-frequency components, which
 * shape the U-shaped attention); only its abstract was reachable when this was written, so the exact cut of its
 * method section is not verified here, and `minPeriods` makes the rule an explicit parameter (1 = one period).
 * The split is decided once on the training grid and kept under every inference-time extension (the dropped
 * pairs stay position-independent whatever the evaluation length).
 *
 * How it differs from its neighbours in this repository:
 *   - p-RoPE (p-rope.ts) drops a fixed FRACTION of the grid, the same at every training length; HoPE's cut is a
 *     frequency threshold tied to L, so training at 64 or at 4096 keeps different numbers of pairs.
 *   - FoPE's floor clip (fope.ts) drops by the same kind of threshold (one period at L) but then turns every
 *     dimension into a Fourier series over the kept frequencies with random coefficients, so each output pair
 *     mixes several frequencies; HoPE keeps each pair a pure rotation at its own frequency. Under YaRN, FoPE clips
 *     again at the new floor 2*pi/L'; HoPE's split stays the training one.
 * test/embeddings/hope.test.ts makes both differences a test.
 */
import { Schema } from "effect"
import type { EmbeddingModule } from "./interface.js"
import { createFrequencyRotary } from "./frequency-rotary.js"
import { baseParam, numberParam } from "./params.js"
import { ropeFrequencies } from "./rotary-frequencies.js"

/** How many leading (highest) pairs of RoPE's grid complete `minPeriods` periods inside L. */
export const hopeKeptPairs = (headDim: number, base: number, trainLength: number, minPeriods: number): number => {
  const w = ropeFrequencies(headDim, base)
  let keep = 0
  while (keep < w.length && w[keep]! * trainLength >= 2 * Math.PI * minPeriods) keep++
  return keep
}

/** HoPE's parameters. */
export const HopeParams = Schema.Struct({
  base: baseParam(),
  minPeriods: numberParam({
    default: 1,
    min: 0,
    max: 1e6,
    doc: "a pair keeps its rotation when it completes at least this many periods inside the training length"
  })
})
export type HopeParams = typeof HopeParams.Type

export const hope: EmbeddingModule<typeof HopeParams.fields> = {
  name: "hope",
  family: "rotary",
  takesPositions: true,
  description: "RoPE keeping only the pairs that complete minPeriods periods inside L; the rest position-independent",
  reference: "Chen et al. 2024, HoPE (arXiv 2410.21216), section 4; split rule: w_k*L >= 2*pi*minPeriods",
  params: HopeParams,
  create: (params, shape) => {
    const base = params.base
    const keep = hopeKeptPairs(shape.headDim, base, shape.trainLength, params.minPeriods)
    const grid = (b: number): Float64Array => {
      const w = ropeFrequencies(shape.headDim, b)
      for (let k = keep; k < w.length; k++) w[k] = 0 // position-independent: C = 1, S = 0
      return w
    }
    const dropped = Array.from(ropeFrequencies(shape.headDim, base)).slice(keep)
    return createFrequencyRotary({ name: "hope", params, shape, base, grid, dropped })
  }
}
