/**
 * p-RoPE (Barbero et al. 2024, "Round and Round We Go! What makes Rotary Positional Encodings useful?", section 6):
 * keep the highest `floor(p * d/2)` frequencies of RoPE's grid and set the lowest (1-p) fraction to zero
 * frequency (C = 1, S = 0: those channels carry no position). p = 0.75 was best in the paper. An ablation next
 * to FoPE's floor clip, which drops by a length-dependent threshold instead of a fraction.
 */
import { Schema } from "effect"
import type { EmbeddingModule } from "./interface.js"
import { createFrequencyRotary } from "./frequency-rotary.js"
import { baseParam, numberParam } from "./params.js"
import { ropeFrequencies } from "./rotary-frequencies.js"

/** p-RoPE's parameters. */
export const PRopeParams = Schema.Struct({
  base: baseParam(),
  p: numberParam({ default: 0.75, min: 0, max: 1, doc: "fraction of RoPE's frequencies kept (the highest ones)" })
})
export type PRopeParams = typeof PRopeParams.Type

export const pRope: EmbeddingModule<typeof PRopeParams.fields> = {
  name: "p-rope",
  family: "rotary",
  takesPositions: true,
  description: "RoPE keeping the highest fraction p of its frequencies; the rest are zero frequency",
  reference: "Barbero et al. 2024 (arXiv 2410.06205), section 6, p-RoPE",
  params: PRopeParams,
  create: (params, shape) => {
    const half = shape.headDim / 2
    const keep = Math.floor(params.p * half)
    const grid = (b: number): Float64Array => {
      const w = ropeFrequencies(shape.headDim, b)
      for (let k = keep; k < half; k++) w[k] = 0
      return w
    }
    const dropped = Array.from(ropeFrequencies(shape.headDim, params.base)).slice(keep)
    return createFrequencyRotary({ name: "p-rope", params, shape, base: params.base, grid, dropped })
  }
}
