/**
 * cos/sin tables of the rotary family in the "half split" layout (position-embeddings.md, notation):
 * pair k is `(x[k], x[k + d/2])`, and a table of width d holds the d/2 pair values repeated twice.
 * Angles are computed in float64 (`t * w_k`) and rounded once to float32, so long lengths keep their phase.
 */
import * as tf from "@tensorflow/tfjs"

/** q and k tables for one (layer, length); `k` differs from `q` only for xPos. Each [T, hd] or [H, T, hd]. */
export interface RotaryTables {
  readonly q: { readonly cos: tf.Tensor; readonly sin: tf.Tensor }
  readonly k: { readonly cos: tf.Tensor; readonly sin: tf.Tensor }
}

/**
 * Values of `C[t] = cos(p_t*w) * m(p_t,k)`, `S[t] = sin(p_t*w) * m(p_t,k)` for rows t = 0..T-1 at positions
 * p_t = t (or `positions[t]`), each [T, 2*w.length] row-major (pair values repeated twice). `multiplier`
 * (default 1) is xPos's scale or YaRN's mscale.
 */
export const rotaryTableValues = (
  w: ArrayLike<number>,
  T: number,
  multiplier?: (t: number, k: number) => number,
  positions?: ReadonlyArray<number>
): { cos: Float32Array; sin: Float32Array } => {
  const half = w.length
  const width = 2 * half
  const cos = new Float32Array(T * width)
  const sin = new Float32Array(T * width)
  for (let t = 0; t < T; t++) {
    const row = t * width
    const p = positions ? positions[t]! : t
    for (let k = 0; k < half; k++) {
      const angle = p * w[k]!
      const m = multiplier ? multiplier(p, k) : 1
      const c = Math.cos(angle) * m
      const s = Math.sin(angle) * m
      cos[row + k] = c
      cos[row + half + k] = c
      sin[row + k] = s
      sin[row + half + k] = s
    }
  }
  return { cos, sin }
}

/** The same as tensors: `{ cos, sin }` [T, hd]. */
export const rotaryTable = (
  w: ArrayLike<number>,
  T: number,
  multiplier?: (t: number, k: number) => number,
  positions?: ReadonlyArray<number>
): { cos: tf.Tensor2D; sin: tf.Tensor2D } => {
  const { cos, sin } = rotaryTableValues(w, T, multiplier, positions)
  return { cos: tf.tensor2d(cos, [T, 2 * w.length]), sin: tf.tensor2d(sin, [T, 2 * w.length]) }
}

/** The raw (unrepeated) phase matrices `Pc[t,k] = cos(p_t*w_k)`, `Ps[t,k] = sin(p_t*w_k)`, [T, K] (FoPE, step 6). */
export const phaseMatrices = (w: ArrayLike<number>, T: number, positions?: ReadonlyArray<number>): { pc: tf.Tensor2D; ps: tf.Tensor2D } => {
  const K = w.length
  const pc = new Float32Array(T * K)
  const ps = new Float32Array(T * K)
  for (let t = 0; t < T; t++) {
    const p = positions ? positions[t]! : t
    for (let k = 0; k < K; k++) {
      const angle = p * w[k]!
      pc[t * K + k] = Math.cos(angle)
      ps[t * K + k] = Math.sin(angle)
    }
  }
  return { pc: tf.tensor2d(pc, [T, K]), ps: tf.tensor2d(ps, [T, K]) }
}
