/**
 * Batch sizes for evaluation that keep the forward pass inside a memory budget.
 *
 * The decoder computes a forward pass inside one tf.tidy, so every layer's intermediate tensors stay alive until
 * it returns. Per sequence of T tokens and per layer, in float32 values:
 *   4 H T^2        attention (scores, scaled, masked, softmax)
 *   10 T d + 6 T F the projections, norms, residuals and the SwiGLU inner width F (when the shape gives d, F)
 * plus 4 T V at the output (logits, log-softmax, one-hot targets, product). So
 *   bytes(T) = 4 * (layers * (4 H T^2 + 10 T d + 6 T F) + 4 T V)
 * Calibrated against tf.profile's peak bytes on the `mini` scale: close at 8 x 128 tokens, conservative at
 * 1 x 2048 (docs/engine-measurements.md).
 * The batch is the largest B with B * bytes(T) <= budget, at least 1 and at most the requested batch size.
 * At 16x a 128 training length (T = 2048) every CPU scale runs one sequence at a time: one sequence is the
 * floor, and its peak is then set by the decoder (freeing each block's tensors after the block, possible
 * outside a gradient tape, would divide the attention part by the number of layers).
 */
export const DEFAULT_MEMORY_BUDGET_BYTES = 256 * 1024 * 1024

export interface ForwardShape {
  readonly heads: number
  readonly layers: number
  readonly vocabSize: number
  /** model width d and SwiGLU inner width F: counted when given (the Decoder's config has both) */
  readonly dModel?: number
  readonly ffnHidden?: number
}

/** Estimated bytes one sequence of T tokens holds during a forward pass (see the header). */
export const forwardBytesPerSequence = (shape: ForwardShape, T: number): number => {
  const perLayer = 4 * shape.heads * T * T + 10 * T * (shape.dModel ?? 0) + 6 * T * (shape.ffnHidden ?? 0)
  return 4 * (shape.layers * perLayer + 4 * T * shape.vocabSize)
}

/** min(requested, floor(budget / bytes(T))), at least 1. */
export const evalBatchSize = (shape: ForwardShape, T: number, requested: number, budgetBytes = DEFAULT_MEMORY_BUDGET_BYTES): number => {
  if (!Number.isInteger(requested) || requested < 1) throw new RangeError(`batch size must be a positive integer, got ${requested}`)
  return Math.max(1, Math.min(requested, Math.floor(budgetBytes / forwardBytesPerSequence(shape, T))))
}
