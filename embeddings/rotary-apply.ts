/**
 * Applying a rotary table: `x' = x*C + rot(x)*S`, `rot(x) = concat(-x[d/2:], x[:d/2])`
 * (position-embeddings.md, notation; the "half split" layout of GPT-NeoX / HF Llama `rotate_half`).
 * One pass over x: one split, one concat, two products and a sum; C and S broadcast over batch (and heads).
 */
import * as tf from "@tensorflow/tfjs"

/** `rot(x)` on the last axis: [..., d] -> [..., d]. */
export const rotateHalf = <R extends tf.Rank>(x: tf.Tensor<R>): tf.Tensor<R> =>
  tf.tidy(() => {
    const [x1, x2] = tf.split(x, 2, x.rank - 1) // [..., d/2] each
    return tf.concat([tf.neg(x2!), x1!], x.rank - 1) as tf.Tensor<R>
  })

/** x [B, H, T, hd]; cos, sin [T, hd] or [H, T, hd] (per-head tables, FoPE) -> [B, H, T, hd]. */
export const applyRotary = (x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor4D =>
  tf.tidy(() => tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin)) as tf.Tensor4D)
