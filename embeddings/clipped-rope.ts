/**
 * CoPE, Clipped RoPE (Li, Ren, Yuille and Wang 2026, "CoPE: Clipped RoPE as A Scalable Free Lunch for Long Context
 * LLMs", arXiv 2602.05258; the authors' released `modeling_cope.py`): RoPE whose n lowest frequencies are softly
 * clipped towards zero by a half cosine,
 *
 *   w'_{d/2-n+m} = w_{d/2-n+m} * (1 + cos(theta_m)) / 2,   theta_m = m*pi/(n-1), m = 0..n-1   (theta_0 = 0 for n = 1),
 *
 * so the highest of them is kept, the lowest becomes zero frequency, and the ones between fade smoothly (a hard
 * cut would leak spectrally; `hard: true` is the paper's HardClip baseline, all n set to zero). The released code
 * clips n = 20 of Llama-3-8B's 64 pairs; for the small heads here n = round(fraction * d/2), fraction 20/64 by
 * default (d = 32: 5 pairs). Under NTK-style extensions the mask is applied to the rescaled grid, as the released
 * code re-applies it after a dynamic update.
 * Vector: d = 8, b = 10000, n = 3 -> mask [1, 0.5, 0] on pairs 1..3: w' = [1, 0.1, 0.005, 0].
 */
import { Schema } from "effect"
import type { EmbeddingModule } from "./interface.js"
import { createFrequencyRotary } from "./frequency-rotary.js"
import { baseParam, booleanParam, numberParam } from "./params.js"
import { ropeFrequencies } from "./rotary-frequencies.js"

/** The released code's share: 20 clipped pairs of Llama-3-8B's 64. */
export const COPE_DEFAULT_FRACTION = 20 / 64

/** Multipliers of the d/2 pairs: 1 above the n lowest, then the half-cosine ramp (or 0 for a hard clip). */
export const copeMask = (pairs: number, n: number, hard: boolean): Float64Array => {
  const mask = new Float64Array(pairs).fill(1)
  const clip = Math.min(n, pairs)
  for (let m = 0; m < clip; m++) {
    const theta = clip === 1 ? 0 : (m * Math.PI) / (clip - 1)
    mask[pairs - clip + m] = hard ? 0 : 0.5 * (1 + Math.cos(theta))
  }
  return mask
}

/** CoPE's (clipped RoPE's) parameters. */
export const CopeParams = Schema.Struct({
  base: baseParam(),
  fraction: numberParam({
    default: COPE_DEFAULT_FRACTION,
    min: 0,
    max: 1,
    doc: "share of RoPE's pairs clipped (the lowest ones), n = round(fraction * d/2); released code: 20 of 64"
  }),
  hard: booleanParam({ default: false, doc: "HardClip: set the n lowest frequencies to zero instead of fading them" })
})
export type CopeParams = typeof CopeParams.Type

export const clippedRope: EmbeddingModule<typeof CopeParams.fields> = {
  name: "cope",
  family: "rotary",
  takesPositions: true,
  description: "Clipped RoPE: the lowest fraction of RoPE's frequencies faded to zero by a half cosine (hard: set to zero)",
  reference: "Li et al. 2026, CoPE: Clipped RoPE (arXiv 2602.05258); authors' modeling_cope.py",
  params: CopeParams,
  create: (params, shape) => {
    const pairs = shape.headDim / 2
    const n = Math.round(params.fraction * pairs)
    const mask = copeMask(pairs, n, params.hard)
    const grid = (b: number): Float64Array => {
      const w = ropeFrequencies(shape.headDim, b)
      for (let k = 0; k < pairs; k++) w[k] = w[k]! * mask[k]!
      return w
    }
    const dropped = Array.from(ropeFrequencies(shape.headDim, params.base)).filter((_, k) => mask[k] === 0)
    return createFrequencyRotary({ name: "cope", params, shape, base: params.base, grid, dropped })
  }
}
