/**
 * FoPE's coefficient matrices (position-embeddings.md, "FoPE", steps 3-4; released code `FourierEmbedding`):
 * per layer, per head, separate for cos and sin, `A : [H, K, dOut]` = Gaussian noise + E, where
 *   - noise std = sigma * sqrt(2 / (K*dOut + H*dOut))  (PyTorch `xavier_normal_(gain=sigma)` on the 3-D tensor:
 *     fan_in = K*dOut, fan_out = H*dOut);
 *   - E = identity when K == dOut, otherwise the step identity E[i*st, i] = 1, st = ceil(K/dOut), for i*st < K.
 */
import { SeededRandom } from "./seeded-random.js"

/** `dOut = min(K, floor(d/4))`: FoPE's output width; the other d/2 - dOut pairs are padded. */
export const fopeOutputWidth = (K: number, headDim: number): number => Math.min(K, Math.floor(headDim / 4))

/** xavier_normal_ std on [H, K, dOut] with gain sigma; 0 when there is nothing to draw. */
export const fopeNoiseStd = (sigma: number, heads: number, K: number, dOut: number): number =>
  K * dOut + heads * dOut === 0 ? 0 : sigma * Math.sqrt(2 / (K * dOut + heads * dOut))

/** The step of E: 1 when K == dOut, else ceil(K/dOut). */
export const fopeStep = (K: number, dOut: number): number => (dOut === 0 || K === dOut ? 1 : Math.ceil(K / dOut))

/** E [K, dOut] as a row-major Float64Array. */
export const fopeStepIdentity = (K: number, dOut: number): Float64Array => {
  const e = new Float64Array(K * dOut)
  const st = fopeStep(K, dOut)
  for (let i = 0; i < dOut; i++) if (i * st < K) e[i * st * dOut + i] = 1
  return e
}

/**
 * One coefficient tensor's values [H, K, dOut] (row-major), drawn from its own generator:
 * purpose `fope/layer{l}/{cos|sin}` under the model seed, so that every layer (and cos vs sin) differs
 * and the same seed always gives the same numbers.
 */
export const fopeCoefficientValues = (
  seed: number,
  layer: number,
  which: "cos" | "sin",
  heads: number,
  K: number,
  dOut: number,
  sigma: number
): Float32Array => {
  const rng = SeededRandom.create(seed, `fope/layer${layer}/${which}`)
  const std = fopeNoiseStd(sigma, heads, K, dOut)
  const e = fopeStepIdentity(K, dOut)
  const out = new Float32Array(heads * K * dOut)
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < K * dOut; i++) out[h * K * dOut + i] = rng.normal() * std + e[i]!
  }
  return out
}
