/**
 * KERPLE, logarithmic variant (Chi et al. 2022, "KERPLE: Kernelized Relative Positional Embedding", eq. for
 * the log kernel; code chijames/KERPLE): bias `-r1*log(1 + r2*(i-j))` per head, shared by all layers,
 * `r1 ~ U(0,2)`, `r2 ~ U(0,1)`, both clamped to >= 0.01 in every forward.
 */
import * as tf from "@tensorflow/tfjs"
import { Schema } from "effect"
import type { EmbeddingModule } from "./interface.js"
import { causalToeplitz, distanceRow } from "./bias-toeplitz.js"
import { SeededRandom } from "./seeded-random.js"
import { staticEmbedding } from "./static-embedding.js"
import { TableCache } from "./table-cache.js"
import { variableFrom } from "./variables.js"

export const KERPLE_EPS = 0.01

/** KERPLE-log's parameters: none (its two kernel parameters per head are learned). */
export const KerpleLogParams = Schema.Struct({})
export type KerpleLogParams = typeof KerpleLogParams.Type

export const kerpleLog: EmbeddingModule<typeof KerpleLogParams.fields> = {
  name: "kerple-log",
  family: "bias",
  description: "Learned logarithmic distance penalty -r1*log(1 + r2*(i-j)) per head",
  reference: "Chi et al. 2022, KERPLE (arXiv 2205.09921), logarithmic kernel",
  params: KerpleLogParams,
  create: (params, shape, seed) => {
    const H = shape.heads
    const rng = SeededRandom.create(seed, "kerple-log/init")
    const r1 = variableFrom(
      rng.fill(H, (r) => r.uniformIn(0, 2)),
      [H, 1]
    ) // [H, 1]
    const r2 = variableFrom(
      rng.fill(H, (r) => r.uniformIn(0, 1)),
      [H, 1]
    ) // [H, 1]
    const distances = new TableCache<{ r: tf.Tensor2D }>()
    return staticEmbedding({
      name: "kerple-log",
      family: "bias",
      params,
      shape,
      scoreBias: (T) => {
        const r = distances.get(`T${T}`, () => ({ r: distanceRow(T) })).r // [1, T]
        const a = tf.maximum(r1, KERPLE_EPS)
        const b = tf.maximum(r2, KERPLE_EPS)
        const values = tf.neg(tf.mul(a, tf.log1p(tf.mul(b, r)))) as tf.Tensor2D // [H, T]
        return causalToeplitz(values) // [H, T, T]
      },
      variables: [
        ["r1", r1],
        ["r2", r2]
      ],
      caches: [distances]
    })
  }
}
