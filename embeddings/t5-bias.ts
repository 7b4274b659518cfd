/**
 * T5 relative position bias (Raffel et al. 2020, section 2.1; HF `T5Attention._relative_position_bucket`,
 * causal): a learned scalar per head and bucket of the distance r = i - j; 32 buckets, max distance 128:
 * distances 0-15 exact, beyond `16 + floor(log(r/16)/log(128/16)*16)`, capped at 31. Shared by all layers
 * (T5 computes it in the first layer and reuses it). Init N(0, dModel^-0.5) (HF T5 `_init_weights`).
 * The lookup is a one-hot matmul (no gather: wasm lacks its gradient kernel).
 */
import * as tf from "@tensorflow/tfjs"
import { Schema } from "effect"
import type { EmbeddingModule } from "./interface.js"
import { causalToeplitz } from "./bias-toeplitz.js"
import { integerParam } from "./params.js"
import { SeededRandom } from "./seeded-random.js"
import { staticEmbedding } from "./static-embedding.js"
import { TableCache } from "./table-cache.js"
import { variableFrom } from "./variables.js"

/** The causal bucket of distance r >= 0. [0,1,15,16,20,32,64,127,128,1000] -> [0,1,15,16,17,21,26,31,31,31]. */
export const t5Bucket = (r: number, buckets = 32, maxDistance = 128): number => {
  const n = Math.max(r, 0)
  const maxExact = Math.floor(buckets / 2)
  if (n < maxExact) return n
  const large = maxExact + Math.floor((Math.log(n / maxExact) / Math.log(maxDistance / maxExact)) * (buckets - maxExact))
  return Math.min(large, buckets - 1)
}

/** The T5 bias's parameters. */
export const T5Params = Schema.Struct({
  buckets: integerParam({ default: 32, min: 2, max: 1024, doc: "number of distance buckets (half of them exact)" }),
  maxDistance: integerParam({ default: 128, min: 2, max: 1 << 20, doc: "distance from which every distance shares the last bucket" })
})
export type T5Params = typeof T5Params.Type

export const t5: EmbeddingModule<typeof T5Params.fields> = {
  name: "t5",
  family: "bias",
  description: "Learned per-head bias for log-spaced buckets of the distance (T5), shared by all layers",
  reference: "Raffel et al. 2020, T5 (arXiv 1910.10683), section 2.1; HF _relative_position_bucket (bidirectional=False)",
  params: T5Params,
  create: (params, shape, seed) => {
    const H = shape.heads
    const nb = params.buckets
    const maxDistance = params.maxDistance
    const rng = SeededRandom.create(seed, "t5/bias")
    const std = Math.pow(shape.dModel, -0.5)
    const weights = variableFrom(
      rng.fill(H * nb, (r) => r.normal() * std),
      [H, nb]
    ) // [H, buckets]
    // one-hot [buckets, T]: column r selects the bucket of distance r
    const oneHots = new TableCache<{ oneHot: tf.Tensor2D }>()
    const oneHotOf = (T: number): tf.Tensor2D => {
      const values = new Float32Array(nb * T)
      for (let r = 0; r < T; r++) values[t5Bucket(r, nb, maxDistance) * T + r] = 1
      return tf.tensor2d(values, [nb, T])
    }
    return staticEmbedding({
      name: "t5",
      family: "bias",
      params,
      shape,
      scoreBias: (T) => {
        const oneHot = oneHots.get(`T${T}`, () => ({ oneHot: oneHotOf(T) })).oneHot // [buckets, T]
        return causalToeplitz(tf.matMul(weights, oneHot)) // [H, T] -> [H, T, T]
      },
      variables: [["weights", weights]],
      caches: [oneHots]
    })
  }
}
