/** RoPE (RoFormer, Su et al. 2021, eq. 34), half-split layout: `w_k = b^(-2k/d)`, `C = cos(t*w)`, `S = sin(t*w)`. */
import type { EmbeddingModule } from "./interface.js"
import { createFrequencyRotary } from "./frequency-rotary.js"
import { BASE_PARAM, num } from "./params.js"
import { ropeFrequencies } from "./rotary-frequencies.js"

export const rope: EmbeddingModule = {
  name: "rope",
  family: "rotary",
  takesPositions: true,
  description: "Rotary position embedding: q and k rotated by t*w_k, w_k = b^(-2k/d)",
  reference: "Su et al. 2021, RoFormer (arXiv 2104.09864), eq. 34; half-split layout of GPT-NeoX",
  params: [BASE_PARAM],
  create: (params, shape) =>
    createFrequencyRotary({ name: "rope", params, shape, base: num(params, "base"), grid: (b) => ropeFrequencies(shape.headDim, b) })
}
