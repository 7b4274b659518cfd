/**
 * What the evaluations need of a model: the contract's Decoder (models/decoder.ts) satisfies this structurally,
 * and so do the small fake models of the tests (a uniform model, a bigram table, a passkey oracle).
 */
import type * as tf from "@tensorflow/tfjs"
import type { PositionEmbedding } from "../../embeddings/interface.js"
import type { ForwardOptions } from "../decoder.js"

/** The decoder's forward options (another embedding view, the q/k capture hook): one definition, in decoder.ts. */
export type EvalForwardOptions = ForwardOptions

export interface EvaluableModel {
  readonly config: {
    readonly vocabSize: number
    readonly heads: number
    readonly layers: number
    readonly trainLength: number
    /** width and SwiGLU inner width, when known: they refine the memory estimate of batching.ts */
    readonly dModel?: number
    readonly ffnHidden?: number
  }
  readonly embedding: PositionEmbedding
  /** tokens [B, T] int32 -> logits [B, T, V] */
  logits(tokens: tf.Tensor2D, options?: EvalForwardOptions): tf.Tensor3D
  /** tokens [B, T+1] int32 -> next-token cross-entropy in nats [B, T] */
  tokenLosses(tokens: tf.Tensor2D, options?: EvalForwardOptions): tf.Tensor2D
}

/** Either one embedding for every length, or a view per evaluation length (e.g. `len => emb.extend(ext, len)`). */
export type EmbeddingChoice = PositionEmbedding | ((length: number) => PositionEmbedding)

export interface ResolvedEmbedding {
  readonly embedding: PositionEmbedding
  /** true when a factory made it for this length: the evaluation disposes it (its cached tables) afterwards */
  readonly owned: boolean
}

/**
 * The embedding to evaluate `length` with, or why there is none. A factory that throws `EmbeddingError`
 * (an extension the method does not support) makes the length not applicable; other errors propagate.
 */
export const resolveEmbedding = (
  model: EvaluableModel,
  choice: EmbeddingChoice | undefined,
  length: number
): ResolvedEmbedding | { readonly reason: string } => {
  if (choice === undefined) return { embedding: model.embedding, owned: false }
  if (typeof choice !== "function") return { embedding: choice, owned: false }
  try {
    const embedding = choice(length)
    return { embedding, owned: embedding !== model.embedding }
  } catch (error) {
    if (error instanceof Error && error.name === "EmbeddingError") return { reason: error.message }
    throw error
  }
}

export const releaseEmbedding = (resolved: ResolvedEmbedding): void => {
  if (resolved.owned) resolved.embedding.dispose()
}

/**
 * Why `embedding` cannot be evaluated on sequences of `needed` tokens, or undefined when it can.
 * Learned absolute positions end at their table (`maxLength`): never clamp, report not applicable.
 */
export const lengthNotApplicable = (embedding: PositionEmbedding, needed: number): string | undefined =>
  embedding.maxLength !== undefined && needed > embedding.maxLength
    ? `position embedding "${embedding.name}" has values only up to length ${embedding.maxLength}; ` +
      `${needed} tokens would need positions it never had (not clamped)`
    : undefined
