/**
 * Causal relative-position biases that depend only on the distance r = i - j (ALiBi, KERPLE, T5):
 * computed for the T distances, then laid out as an [H, T, T] Toeplitz matrix with differentiable
 * reshapes and slices (no gather: the wasm backend has no gradient kernel for it, engine-facts.md).
 */
import * as tf from "@tensorflow/tfjs"

/** Distances 0..T-1 as a [1, T] float tensor. */
export const distanceRow = (T: number): tf.Tensor2D => tf.range(0, T, 1, "float32").reshape([1, T]) as tf.Tensor2D

/**
 * values [H, T] (values[h, r] for distance r) -> [H, T, T] with out[h, i, j] = values[h, i - j] for j <= i and
 * 0 above the diagonal (never used: the causal mask removes it).
 * Layout trick: h = [values reversed | T-1 zeros] has length 2T-1; T copies of h read from offset T-1 in rows of
 * 2T-2 give row i starting at h[T-1-i], i.e. out[i, j] = h[T-1-i+j] = values[i-j].
 */
export const causalToeplitz = (values: tf.Tensor2D): tf.Tensor3D =>
  tf.tidy(() => {
    const [H, T] = values.shape
    if (T === 1) return tf.reshape(values, [H, 1, 1]) as tf.Tensor3D
    const h = tf.concat([tf.reverse(values, 1), tf.zeros([H, T - 1])], 1) // [H, 2T-1]
    const copies = tf.mul(tf.expandDims(h, 1), tf.ones([1, T, 1])) // [H, T, 2T-1]
    const flat = tf.slice(tf.reshape(copies, [H, T * (2 * T - 1)]), [0, T - 1], [H, T * (2 * T - 2)]) // [H, T*(2T-2)]
    return tf.slice(tf.reshape(flat, [H, T, 2 * T - 2]), [0, 0, 0], [H, T, T]) as tf.Tensor3D // [H, T, T]
  })
