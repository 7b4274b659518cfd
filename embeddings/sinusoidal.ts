/**
 * Sinusoidal absolute position embedding (Vaswani et al. 2017, section 3.5):
 * `PE(p, 2k) = sin(p / b^(2k/dModel))`, `PE(p, 2k+1) = cos(p / b^(2k/dModel))`, added to the token embeddings.
 */
import * as tf from "@tensorflow/tfjs"
import { Schema } from "effect"
import type { EmbeddingModule } from "./interface.js"
import { numberParam } from "./params.js"
import { staticEmbedding } from "./static-embedding.js"
import { TableCache } from "./table-cache.js"

/** [T, dModel] values at positions 0..T-1 (or `positions`), row-major, angles in float64. */
export const sinusoidalValues = (T: number, dModel: number, base: number, positions?: ReadonlyArray<number>): Float32Array => {
  const out = new Float32Array(T * dModel)
  for (let t = 0; t < T; t++) {
    const p = positions ? positions[t]! : t
    for (let i = 0; i < dModel; i++) {
      const k = Math.floor(i / 2)
      const angle = p / Math.pow(base, (2 * k) / dModel)
      out[t * dModel + i] = i % 2 === 0 ? Math.sin(angle) : Math.cos(angle)
    }
  }
  return out
}

/** The sinusoidal embedding's parameters. */
export const SinusoidalParams = Schema.Struct({
  base: numberParam({ default: 10000, min: 2, max: 1e9, doc: "wavelength base of PE(p, 2k) = sin(p / base^(2k/dModel))" })
})
export type SinusoidalParams = typeof SinusoidalParams.Type

export const sinusoidal: EmbeddingModule<typeof SinusoidalParams.fields> = {
  name: "sinusoidal",
  family: "input",
  description: "Fixed sinusoids of the absolute position added to the token embeddings",
  reference: "Vaswani et al. 2017, Attention Is All You Need, section 3.5",
  takesPositions: true,
  params: SinusoidalParams,
  create: (params, shape) => {
    const cache = new TableCache<{ pe: tf.Tensor2D }>()
    const base = params.base
    return staticEmbedding({
      name: "sinusoidal",
      family: "input",
      params,
      shape,
      // [T, dModel], shared by every call at that length; at other positions (a training step's) built for the call
      input: (T, positions) =>
        positions
          ? tf.tensor2d(sinusoidalValues(T, shape.dModel, base, positions), [T, shape.dModel])
          : cache.get(`T${T}`, () => ({ pe: tf.tensor2d(sinusoidalValues(T, shape.dModel, base), [T, shape.dModel]) })).pe,
      caches: [cache]
    })
  }
}
