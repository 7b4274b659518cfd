/**
 * ALiBi (Press et al. 2022, "Train Short, Test Long", section 3): bias `-m_h*(i-j)`, `m_h = 2^(-8h/H)`, h = 1..H;
 * for H not a power of two, the slopes of the nearest lower power of two P, then every second slope of the
 * 2P sequence (the authors' `get_slopes`). Not learned; no other position signal.
 */
import * as tf from "@tensorflow/tfjs"
import { Schema } from "effect"
import type { EmbeddingModule } from "./interface.js"
import { staticEmbedding } from "./static-embedding.js"
import { TableCache } from "./table-cache.js"

const powerOfTwoSlopes = (n: number): number[] => Array.from({ length: n }, (_, i) => Math.pow(2, (-8 * (i + 1)) / n))

/** ALiBi's head slopes. H=4 -> [0.25, 0.0625, 0.015625, 0.00390625]; H=6 -> [.., 0.5, 0.125]. */
export const alibiSlopes = (H: number): number[] => {
  const P = Math.pow(2, Math.floor(Math.log2(H)))
  if (P === H) return powerOfTwoSlopes(H)
  const extra = powerOfTwoSlopes(2 * P)
    .filter((_, i) => i % 2 === 0)
    .slice(0, H - P)
  return [...powerOfTwoSlopes(P), ...extra]
}

/** [H, T, T] values: -m_h*(i-j) for j <= i, 0 above the diagonal. */
export const alibiBiasValues = (H: number, T: number): Float32Array => {
  const slopes = alibiSlopes(H)
  const out = new Float32Array(H * T * T)
  for (let h = 0; h < H; h++) {
    const m = slopes[h]!
    for (let i = 0; i < T; i++) {
      const row = (h * T + i) * T
      for (let j = 0; j < i; j++) out[row + j] = -m * (i - j) // the diagonal stays +0
    }
  }
  return out
}

/** ALiBi's parameters: none (the slopes follow from the head count). */
export const AlibiParams = Schema.Struct({})
export type AlibiParams = typeof AlibiParams.Type

export const alibi: EmbeddingModule<typeof AlibiParams.fields> = {
  name: "alibi",
  family: "bias",
  description: "Linear distance penalty -m_h*(i-j) on the attention logits, geometric head slopes",
  reference: "Press et al. 2022, ALiBi (arXiv 2108.12409), section 3 and get_slopes",
  params: AlibiParams,
  create: (params, shape) => {
    const cache = new TableCache<{ bias: tf.Tensor3D }>()
    const H = shape.heads
    return staticEmbedding({
      name: "alibi",
      family: "bias",
      params,
      shape,
      // [H, T, T], the same for every layer
      scoreBias: (T) => cache.get(`T${T}`, () => ({ bias: tf.tensor3d(alibiBiasValues(H, T), [H, T, T]) })).bias,
      caches: [cache],
      notes: { slopes: alibiSlopes(H).join(", ") }
    })
  }
}
