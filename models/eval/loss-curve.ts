/**
 * The per-position loss curve: mean next-token loss of the positions in each of
 * `buckets` equal ranges [from, to) of an evaluation window of `length` predictions. Position p predicts token
 * p+1 from a context of p+1 tokens, so the curve shows where, past the training length, extrapolation breaks.
 * Same windows as the perplexity (windows.ts).
 */
import type { MetricRecord } from "./metrics.js"
import { lengthNotApplicable, releaseEmbedding, resolveEmbedding, type EvaluableModel } from "./model.js"
import type { PerplexityOptions } from "./perplexity.js"
import { windowLosses, windowStarts } from "./windows.js"

export interface LossBucket {
  /** first position (inclusive) */
  readonly from: number
  /** last position (exclusive) */
  readonly to: number
  readonly loss: number
}

export type LossCurve =
  | {
      readonly applicable: true
      readonly length: number
      readonly windows: number
      readonly tokens: number
      readonly buckets: LossBucket[]
    }
  | { readonly applicable: false; readonly length: number; readonly reason: string }

export interface LossCurveResult {
  readonly curve: LossCurve
  readonly metrics: MetricRecord[]
}

/** Bucket boundaries: bucket i = [floor(i*L/n), floor((i+1)*L/n)), n = min(buckets, L). */
export const bucketBounds = (length: number, buckets: number): Array<readonly [number, number]> => {
  if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`buckets must be a positive integer, got ${buckets}`)
  const n = Math.min(buckets, length)
  return Array.from({ length: n }, (_, i) => [Math.floor((i * length) / n), Math.floor(((i + 1) * length) / n)] as const)
}

/**
 * One record per bucket: name "loss_bucket", length = the bucket's end position `to` (the context length the
 * bucket reaches), so the records of one curve sit on the ledger's length axis. Record one curve per job.
 */
export const lossCurveMetrics = (buckets: ReadonlyArray<LossBucket>): MetricRecord[] =>
  buckets.map((b) => ({ name: "loss_bucket", value: b.loss, unit: "nats/token", better: "lower" as const, length: b.to }))

const notApplicable = (length: number, reason: string): LossCurveResult => ({ curve: { applicable: false, length, reason }, metrics: [] })

export const lossCurve = async (
  model: EvaluableModel,
  valid: Int32Array,
  length: number,
  buckets = 16,
  options: PerplexityOptions = {}
): Promise<LossCurveResult> => {
  const bounds = bucketBounds(length, buckets)
  const resolved = resolveEmbedding(model, options.embedding, length)
  if ("reason" in resolved) return notApplicable(length, resolved.reason)
  try {
    const reason = lengthNotApplicable(resolved.embedding, length)
    if (reason) return notApplicable(length, reason)
    const starts = windowStarts(valid.length, length, options)
    if (starts.length === 0)
      return notApplicable(length, `the validation stream (${valid.length} tokens) holds no window of ${length + 1} tokens`)
    const r = await windowLosses(model, valid, length, starts, { ...options, embedding: resolved.embedding })
    const rows: LossBucket[] = bounds.map(([from, to]) => {
      let sum = 0
      for (let p = from; p < to; p++) sum += r.positionSums[p]!
      return { from, to, loss: sum / ((to - from) * r.windows) }
    })
    return { curve: { applicable: true, length, windows: r.windows, tokens: r.tokens, buckets: rows }, metrics: lossCurveMetrics(rows) }
  } finally {
    releaseEmbedding(resolved)
  }
}
