/** RoPE (RoFormer, Su et al. 2021, eq. 34), half-split layout: `w_k = b^(-2k/d)`, `C = cos(t*w)`, `S = sin(t*w)`. */
import { Schema } from "effect"
import type { EmbeddingModule } from "./interface.js"
import { createFrequencyRotary } from "./frequency-rotary.js"
import { baseParam } from "./params.js"
import { ropeFrequencies } from "./rotary-frequencies.js"

/** RoPE's parameters. */
export const RopeParams = Schema.Struct({ base: baseParam() })
export type RopeParams = typeof RopeParams.Type

export const rope: EmbeddingModule<typeof RopeParams.fields> = {
  name: "rope",
  family: "rotary",
  takesPositions: true,
  description: "Rotary position embedding: q and k rotated by t*w_k, w_k = b^(-2k/d)",
  reference: "Su et al. 2021, RoFormer (arXiv 2104.09864), eq. 34; half-split layout of GPT-NeoX",
  params: RopeParams,
  create: (params, shape) =>
    createFrequencyRotary({ name: "rope", params, shape, base: params.base, grid: (b) => ropeFrequencies(shape.headDim, b) })
}
