/**
 * KERPLE, power variant (Chi et al. 2022, power kernel; code chijames/KERPLE): bias `-r1*(i-j)^r2` per head,
 * shared by all layers, `r1 ~ U(0,1)`, `r2 ~ U(0,2)`, clamped every forward to r1 >= 0.01, r2 in [0.01, 2].
 */
import * as tf from "@tensorflow/tfjs"
import { Schema } from "effect"
import type { EmbeddingModule } from "./interface.js"
import { causalToeplitz, distanceRow } from "./bias-toeplitz.js"
import { KERPLE_EPS } from "./kerple-log.js"
import { SeededRandom } from "./seeded-random.js"
import { staticEmbedding } from "./static-embedding.js"
import { TableCache } from "./table-cache.js"
import { variableFrom } from "./variables.js"

/** KERPLE-power's parameters: none (its kernel parameters per head are learned). */
export const KerplePowerParams = Schema.Struct({})
export type KerplePowerParams = typeof KerplePowerParams.Type

export const kerplePower: EmbeddingModule<typeof KerplePowerParams.fields> = {
  name: "kerple-power",
  family: "bias",
  description: "Learned power distance penalty -r1*(i-j)^r2 per head, r2 in [0.01, 2]",
  reference: "Chi et al. 2022, KERPLE (arXiv 2205.09921), power kernel",
  params: KerplePowerParams,
  create: (params, shape, seed) => {
    const H = shape.heads
    const rng = SeededRandom.create(seed, "kerple-power/init")
    const r1 = variableFrom(
      rng.fill(H, (r) => r.uniformIn(0, 1)),
      [H, 1]
    ) // [H, 1]
    const r2 = variableFrom(
      rng.fill(H, (r) => r.uniformIn(0, 2)),
      [H, 1]
    ) // [H, 1]
    const distances = new TableCache<{ r: tf.Tensor2D }>()
    return staticEmbedding({
      name: "kerple-power",
      family: "bias",
      params,
      shape,
      scoreBias: (T) => {
        const r = distances.get(`T${T}`, () => ({ r: distanceRow(T) })).r // [1, T]
        const a = tf.maximum(r1, KERPLE_EPS)
        const p = tf.clipByValue(r2, KERPLE_EPS, 2)
        // tf.pow's gradient w.r.t. the exponent uses log(r) only where r > 0, so distance 0 is safe.
        const values = tf.neg(tf.mul(a, tf.pow(r, p))) as tf.Tensor2D // [H, T]
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
