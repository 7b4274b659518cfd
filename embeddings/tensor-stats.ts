/** Summary statistics of a tensor's values, for describeSpectrum and `harness inspect`. */
import type * as tf from "@tensorflow/tfjs"

export interface TensorStats {
  readonly mean: number
  readonly std: number
  readonly min: number
  readonly max: number
  readonly shape: ReadonlyArray<number>
}

export const statsOf = (values: ArrayLike<number>, shape: ReadonlyArray<number>): TensorStats => {
  const n = values.length
  let sum = 0
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    sum += v
    if (v < min) min = v
    if (v > max) max = v
  }
  const mean = n > 0 ? sum / n : 0
  let sq = 0
  for (let i = 0; i < n; i++) sq += (values[i]! - mean) ** 2
  return { mean, std: n > 0 ? Math.sqrt(sq / n) : 0, min: n > 0 ? min : 0, max: n > 0 ? max : 0, shape: [...shape] }
}

export const tensorStats = (t: tf.Tensor): TensorStats => statsOf(t.dataSync() as Float32Array, t.shape)

/** Stats of every named tensor. */
export const namedStats = (named: ReadonlyArray<readonly [string, tf.Tensor]>): Record<string, TensorStats> =>
  Object.fromEntries(named.map(([name, t]) => [name, tensorStats(t)]))
