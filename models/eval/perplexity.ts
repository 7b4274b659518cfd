/**
 * Perplexity by evaluation length (the ALiBi paper's Table / the FoPE paper's Fig. 1b):
 * for each length L, the mean next-token loss over non-overlapping windows of L+1 tokens from the start of the
 * validation stream (windows.ts), perplexity = exp(mean loss), and the number of tokens evaluated.
 * A length the position embedding has no values for (learned absolute beyond its table, an extension the
 * method does not support) gives a row with `applicable: false` and the reason, never a clamped number.
 */
import type { MetricRecord } from "./metrics.js"
import { lengthNotApplicable, releaseEmbedding, resolveEmbedding, type EmbeddingChoice, type EvaluableModel } from "./model.js"
import { windowLosses, windowStarts, type RunControl, type WindowLimits } from "./windows.js"

export interface PerplexityOptions extends WindowLimits, RunControl {
  /** sequences per forward pass, before the memory budget lowers it (default 8) */
  readonly batchSize?: number
  /** the embedding (or a view per length) to evaluate with; default the model's own */
  readonly embedding?: EmbeddingChoice
  /** bytes the forward pass may hold (batching.ts); default 256 MiB */
  readonly memoryBudgetBytes?: number
}

export type PerplexityRow =
  | {
      readonly applicable: true
      readonly length: number
      /** mean next-token loss, nats */
      readonly loss: number
      readonly perplexity: number
      readonly tokens: number
      readonly windows: number
      readonly batchSize: number
    }
  | {
      readonly applicable: false
      readonly length: number
      readonly reason: string
      readonly loss: null
      readonly perplexity: null
      readonly tokens: 0
      readonly windows: 0
    }

export const notApplicableRow = (length: number, reason: string): PerplexityRow => ({
  applicable: false,
  length,
  reason,
  loss: null,
  perplexity: null,
  tokens: 0,
  windows: 0
})

/** Metrics of applicable rows: val_loss (nats/token), perplexity, eval_tokens; each with its length. */
export const perplexityMetrics = (rows: ReadonlyArray<PerplexityRow>): MetricRecord[] =>
  rows.flatMap((r) =>
    r.applicable
      ? [
          { name: "val_loss", value: r.loss, unit: "nats/token", better: "lower" as const, length: r.length },
          { name: "perplexity", value: r.perplexity, unit: "perplexity", better: "lower" as const, length: r.length },
          { name: "eval_tokens", value: r.tokens, unit: "tokens", better: "none" as const, length: r.length }
        ]
      : []
  )

/** One row per length, in order, and the ledger records of the applicable ones. */
export interface PerplexityResult {
  readonly rows: PerplexityRow[]
  readonly metrics: MetricRecord[]
}

export const perplexityByLength = async (
  model: EvaluableModel,
  valid: Int32Array,
  lengths: ReadonlyArray<number>,
  options: PerplexityOptions = {}
): Promise<PerplexityResult> => {
  const rows: PerplexityRow[] = []
  for (const length of lengths) {
    const resolved = resolveEmbedding(model, options.embedding, length)
    if ("reason" in resolved) {
      rows.push(notApplicableRow(length, resolved.reason))
      continue
    }
    try {
      const reason = lengthNotApplicable(resolved.embedding, length)
      if (reason) {
        rows.push(notApplicableRow(length, reason))
        continue
      }
      const starts = windowStarts(valid.length, length, options)
      if (starts.length === 0) {
        rows.push(
          notApplicableRow(
            length,
            `the validation stream (${valid.length} tokens, within the window limits) holds no window of ${length + 1} tokens`
          )
        )
        continue
      }
      const r = await windowLosses(model, valid, length, starts, { ...options, embedding: resolved.embedding })
      const loss = r.totalLoss / r.tokens
      rows.push({
        applicable: true,
        length,
        loss,
        perplexity: Math.exp(loss),
        tokens: r.tokens,
        windows: r.windows,
        batchSize: r.batchSize
      })
    } finally {
      releaseEmbedding(resolved)
    }
  }
  return { rows, metrics: perplexityMetrics(rows) }
}
