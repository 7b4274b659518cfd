/**
 * xPos (Sun et al. 2022, "A Length-Extrapolatable Transformer", eq. 6; torchscale `XPOS`): RoPE whose pair k is
 * scaled by `zeta_k^(n/B)` on q and `zeta_k^(-m/B)` on k, `zeta_k = (2k + 0.4d)/(1.4d)`, B = 512, with positions
 * centred as torchscale does (`t - ceil(T/2)`), so a score decays with distance as `zeta^((n-m)/B)`.
 */
import { Schema } from "effect"
import type { EmbeddingModule } from "./interface.js"
import { createFrequencyRotary } from "./frequency-rotary.js"
import { baseParam, numberParam } from "./params.js"
import { ropeFrequencies } from "./rotary-frequencies.js"

export const xposZeta = (headDim: number): Float64Array =>
  Float64Array.from({ length: headDim / 2 }, (_, k) => (2 * k + 0.4 * headDim) / (1.4 * headDim))

/** xPos's parameters. */
export const XposParams = Schema.Struct({
  base: baseParam(),
  scaleBase: numberParam({ default: 512, min: 1, max: 1e9, doc: "scale base B of zeta^(n/B)" })
})
export type XposParams = typeof XposParams.Type

export const xpos: EmbeddingModule<typeof XposParams.fields> = {
  name: "xpos",
  family: "rotary",
  takesPositions: true,
  description: "RoPE with an exponential decay per pair: q scaled by zeta^(n/512), k by zeta^(-m/512)",
  reference: "Sun et al. 2022, xPos (arXiv 2212.10554), eq. 6; torchscale XPOS (centred positions)",
  params: XposParams,
  create: (params, shape) => {
    const zeta = xposZeta(shape.headDim)
    const B = params.scaleBase
    const multipliers = (T: number) => {
      const centre = Math.ceil(T / 2) // torchscale: min_pos = -(T // 2) in Python floor division
      return {
        q: (t: number, k: number) => Math.pow(zeta[k]!, (t - centre) / B),
        k: (t: number, k: number) => Math.pow(zeta[k]!, -(t - centre) / B)
      }
    }
    return createFrequencyRotary({
      name: "xpos",
      params,
      shape,
      base: params.base,
      grid: (b) => ropeFrequencies(shape.headDim, b),
      multipliers
    })
  }
}
