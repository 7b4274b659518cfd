/**
 * Stick-breaking attention (Tan et al. 2025, "Scaling Stick-Breaking Attention: An Efficient Implementation and
 * In-depth Study", ICLR 2025, arXiv 2410.17980; the authors' reference `stickbreaking` in `stickbreaking-attention`):
 * no softmax and no position embedding. With z_ij the scaled q.k logit and beta_ij = sigmoid(z_ij), query i gives
 * key j < i the weight
 *
 *   A_ij = beta_ij * prod_{j < k < i} (1 - beta_ik),
 *
 * breaking a unit stick from the nearest key backwards: a key gets what the keys after it left. Computed in log
 * space as the reference does: log A_ij = log sigmoid(z_ij) + sum_{j < k < i} log sigmoid(-z_ik), the sum an
 * exclusive reverse cumulative sum over keys. The stick left over, 1 - sum_j A_ij, goes to the query's own value
 * (the reference's `o + rem * v`); here it is the diagonal weight A_ii, so the output is weights @ v.
 *
 * Causality is the method's own (the decoder's mask is not used): only j < i is weighted, and query 0 returns v_0.
 * Every operation is per query row, so the decoder's row blocks bound evaluation memory.
 */
import * as tf from "@tensorflow/tfjs"
import { Schema } from "effect"
import type { EmbeddingModule } from "./interface.js"
import { logSigmoid } from "./log-sigmoid.js"
import { staticEmbedding } from "./static-embedding.js"

/** 0/1 masks of query rows [start, start + rows) against `keys` keys: strictly before the query, and the query itself. */
const rowMasks = (start: number, rows: number, keys: number): { before: tf.Tensor2D; self: tf.Tensor2D } => {
  const before = new Float32Array(rows * keys)
  const self = new Float32Array(rows * keys)
  for (let r = 0; r < rows; r++) {
    const i = start + r
    for (let j = 0; j < Math.min(i, keys); j++) before[r * keys + j] = 1
    if (i < keys) self[r * keys + i] = 1
  }
  return { before: tf.tensor2d(before, [rows, keys]), self: tf.tensor2d(self, [rows, keys]) }
}

/** Stick-breaking weights of query rows from `start`: logits [B, H, rows, keys] (unmasked) -> weights, rows sum to 1. */
export const stickBreakingWeights = (logits: tf.Tensor4D, start: number): tf.Tensor4D =>
  tf.tidy(() => {
    const [, , rows, keys] = logits.shape
    const { before, self } = rowMasks(start, rows, keys) // [rows, keys]
    const logRest = tf.mul(logSigmoid(tf.neg(logits)), before) // log(1 - beta_ik) for k < i, else 0
    const broken = tf.cumsum(logRest, 3, true, true) // sum_{k > j} of it: the stick left after keys j+1 .. i-1
    const attention = tf.mul(tf.exp(tf.add(logSigmoid(logits), broken)), before) // A_ij, j < i; both logs <= 0: no overflow
    const left = tf.sub(1, tf.sum(attention, 3, true)) // [B, H, rows, 1]
    return tf.add(attention, tf.mul(left, self)) as tf.Tensor4D // the rest on the query's own value
  })

/** Stick-breaking attention's parameters: none. */
export const StickBreakingParams = Schema.Struct({})
export type StickBreakingParams = typeof StickBreakingParams.Type

export const stickBreaking: EmbeddingModule<typeof StickBreakingParams.fields> = {
  name: "stick-breaking",
  family: "attention",
  description: "Stick-breaking attention: A_ij = sigmoid(z_ij) * prod_{j<k<i} (1 - sigmoid(z_ik)), no softmax, no position embedding",
  reference: "Tan et al. 2025, Scaling Stick-Breaking Attention (ICLR 2025, arXiv 2410.17980); authors' reference stickbreaking()",
  params: StickBreakingParams,
  create: (params, shape) =>
    staticEmbedding({
      name: "stick-breaking",
      family: "attention",
      params,
      shape,
      normalise: (logits, start) => stickBreakingWeights(logits, start),
      notes: { remainder: "1 - sum_j A_ij on the query's own value" }
    })
}
