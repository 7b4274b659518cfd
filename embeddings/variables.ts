/** Trainable variables made from seeded values (all randomness from SeededRandom, seeded-random.ts). */
import * as tf from "@tensorflow/tfjs"

/** A trainable variable holding `values` with `shape`; the temporary tensor is freed. */
export const variableFrom = (values: Float32Array | number[], shape: number[]): tf.Variable => {
  const initial = tf.tensor(values, shape, "float32")
  const v = tf.variable(initial, true)
  initial.dispose()
  return v
}
