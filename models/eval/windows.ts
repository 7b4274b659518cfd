/**
 * Non-overlapping evaluation windows over the validation stream, and the per-position losses on them.
 *
 * Window w covers tokens [w*(L+1), (w+1)*(L+1)) of the validation stream: L+1 tokens give L next-token
 * predictions with contexts of 1..L tokens. Windows are disjoint (not even one shared token), taken in order
 * from the start of the stream, so the set is deterministic and the same for every model.
 */
import * as tf from "@tensorflow/tfjs"
import { evalBatchSize, DEFAULT_MEMORY_BUDGET_BYTES } from "./batching.js"
import type { EvaluableModel } from "./model.js"
import type { PositionEmbedding } from "../../embeddings/interface.js"

export interface WindowLimits {
  /** at most this many windows */
  readonly maxWindows?: number
  /** at most this many tokens (windows * (L+1)); use one budget for all lengths to evaluate every length on the same text */
  readonly maxTokens?: number
}

/** Start offsets of the windows of `length + 1` tokens. */
export const windowStarts = (streamLength: number, length: number, limits: WindowLimits = {}): number[] => {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`evaluation length must be a positive integer, got ${length}`)
  const span = length + 1
  let n = Math.floor(streamLength / span)
  if (limits.maxWindows !== undefined) n = Math.min(n, Math.max(0, Math.floor(limits.maxWindows)))
  if (limits.maxTokens !== undefined) n = Math.min(n, Math.floor(limits.maxTokens / span))
  return Array.from({ length: n }, (_, w) => w * span)
}

export interface RunControl {
  /** checked between batches: aborting it stops the evaluation with the signal's reason (the runner's interruption) */
  readonly signal?: AbortSignal
  /** progress in sequences done / total, after each batch */
  readonly onProgress?: (done: number, total: number) => void
}

export interface WindowLosses {
  /** sum over windows of the loss at each position p (predicting token p+1 from tokens 0..p); length L */
  readonly positionSums: Float64Array
  readonly windows: number
  readonly tokens: number
  readonly totalLoss: number
  readonly batchSize: number
}

/** Runs `tokenLosses` over the windows in memory-bounded batches (each inside tf.tidy) and sums per position. */
/** Lets the event loop run between batches, so an interruption (an AbortSignal) can arrive. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export const windowLosses = async (
  model: EvaluableModel,
  stream: Int32Array,
  length: number,
  starts: ReadonlyArray<number>,
  options: { readonly batchSize?: number; readonly embedding: PositionEmbedding; readonly memoryBudgetBytes?: number } & RunControl
): Promise<WindowLosses> => {
  const span = length + 1
  const batchSize = evalBatchSize(model.config, length, options.batchSize ?? 8, options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES)
  const positionSums = new Float64Array(length)
  let totalLoss = 0
  for (let first = 0; first < starts.length; first += batchSize) {
    options.signal?.throwIfAborted()
    const batch = starts.slice(first, first + batchSize)
    const ids = new Int32Array(batch.length * span)
    batch.forEach((start, b) => ids.set(stream.subarray(start, start + span), b * span))
    const losses = tf.tidy(() => model.tokenLosses(tf.tensor2d(ids, [batch.length, span], "int32"), { embedding: options.embedding })) // [b, L]
    let values: Float32Array
    try {
      values = (await losses.data()) as Float32Array
    } finally {
      losses.dispose()
    }
    for (let b = 0; b < batch.length; b++) {
      for (let p = 0; p < length; p++) {
        const v = values[b * length + p]!
        positionSums[p]! += v
        totalLoss += v
      }
    }
    options.onProgress?.(Math.min(first + batchSize, starts.length), starts.length)
    await yieldToEventLoop()
  }
  return { positionSums, windows: starts.length, tokens: starts.length * length, totalLoss, batchSize }
}
