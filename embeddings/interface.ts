/**
 * The one interface every position-embedding method implements, so that the decoder never
 * switches on a method's name: a method changes attention only through the hooks below.
 *
 * A method uses some of five hooks:
 *   - input:     a [T, dModel] signal added to the token embeddings (sinusoidal, learned absolute);
 *   - queryKey:  q and k transformed at positions 0..T-1 (RoPE, FoPE, xPos, p-RoPE, PI / NTK / YaRN);
 *   - scoreBias: an [H, T, T] bias added to the attention logits before the causal mask (ALiBi, KERPLE, FIRE, T5);
 *   - inputBias: a bias that depends on the layer's input, given per block of query rows (the Forgetting
 *                Transformer's forget gate);
 *   - normalise: attention weights from the logits in place of the softmax (stick-breaking attention);
 * or none (NoPE). The last two act inside attention, which the decoder computes in blocks of query rows: a hook
 * is asked for one block [start, end) at a time and never for the whole [T, T], so long evaluations stay bounded.
 *
 * Memory contract: hooks are called inside `tf.tidy` / a gradient tape by the decoder. Tensors a hook returns
 * belong to the caller's scope unless they are cached tables: a method may cache tables that do not depend on
 * trainable variables (e.g. RoPE's cos/sin for a length), `tf.keep` them, and free them in `dispose()`.
 * Tables that depend on trainable variables (learnable FoPE coefficients, FIRE's MLP, ...) must be recomputed
 * on each call so gradients flow.
 */
import type * as tf from "@tensorflow/tfjs-core"
import type { Schema } from "effect"
import type { Llama3Params, YarnParams } from "./rotary-extensions.js"

/** "attention": acts inside attention through inputBias / normalise (FoX, stick-breaking), possibly with a rotation */
export type EmbeddingFamily = "none" | "input" | "rotary" | "bias" | "attention"

/**
 * An input-dependent bias of one layer and forward pass: the bias of query rows [start, end) against keys
 * 0..end-1, [B, H, end - start, end], added to the logits (values above the diagonal are masked away).
 */
export type BlockBias = (start: number, end: number) => tf.Tensor4D

/** The model shape a method is built for. */
export interface EmbeddingShape {
  readonly dModel: number
  readonly heads: number
  /** per-head width; even for the rotary family */
  readonly headDim: number
  readonly layers: number
  /** the training length L; FoPE's floor clip and every inference-time extension depend on it */
  readonly trainLength: number
}

/** Inference-time extensions of the rotary family (train at L, evaluate at L' = s*L). */
export type ExtensionSpec =
  | { readonly method: "none" }
  | { readonly method: "pi" }
  | { readonly method: "ntk" }
  | { readonly method: "dynamic-ntk" }
  /** its parameters are YarnParams' (rotary-extensions.ts), each optional: absent is the default */
  | ({ readonly method: "yarn" } & Partial<YarnParams>)
  /** Llama 3 rope scaling (Llama3Params); factor defaults to s = L'/L, the frequency factors to Llama 3.1's 1 and 4 */
  | ({ readonly method: "llama3" } & Partial<Llama3Params>)

/** What a method says about its frequency content, for `harness inspect` and the spectrum analysis. */
export interface SpectrumDescription {
  /** per rotary pair k (length headDim/2), the angular frequency used (0 for clipped / padded pairs); empty for non-rotary */
  readonly pairFrequencies: ReadonlyArray<number>
  /**
   * Per rotary pair, every frequency the method itself puts into it (its basis). RoPE: just pairFrequencies[k]
   * (the default when absent). FoPE: all kept frequencies, since each output pair is a Fourier series over them;
   * power at a basis frequency is the method's design, not spectrum damage.
   */
  readonly pairBasis?: ReadonlyArray<ReadonlyArray<number>>
  /** frequencies kept (FoPE: the K that finish a period inside L) */
  readonly kept: ReadonlyArray<number>
  /** frequencies dropped (floor clip, p-RoPE) */
  readonly clipped: ReadonlyArray<number>
  /** summary statistics of coefficients or learned parameters at their current values */
  readonly coefficients?: Readonly<
    Record<
      string,
      { readonly mean: number; readonly std: number; readonly min: number; readonly max: number; readonly shape: ReadonlyArray<number> }
    >
  >
  /** method-specific scalars worth showing (FoPE: K, dOut, noise std; YaRN: lo, hi, mscale) */
  readonly notes?: Readonly<Record<string, number | string | boolean>>
}

export interface PositionEmbedding {
  readonly name: string
  readonly family: EmbeddingFamily
  /** resolved parameters (defaults filled in), exactly what is hashed into a job key */
  readonly params: Readonly<Record<string, unknown>>
  readonly shape: EmbeddingShape

  /** input hook: [T, dModel] at positions 0..T-1, or at `positions` (T increasing integers) when given */
  readonly input?: (T: number, positions?: ReadonlyArray<number>) => tf.Tensor2D
  /** query/key hook: q, k [B, H, T, hd] -> [B, H, T, hd] at positions 0..T-1 (or `positions`) of layer `layer` */
  readonly queryKey?: (
    q: tf.Tensor4D,
    k: tf.Tensor4D,
    layer: number,
    positions?: ReadonlyArray<number>
  ) => readonly [tf.Tensor4D, tf.Tensor4D]
  /** score hook: [H, T, T] added to the attention logits of layer `layer` (only j <= i is used) */
  readonly scoreBias?: (T: number, layer: number) => tf.Tensor3D
  /**
   * input-dependent score hook: called once per layer and forward pass with the layer's attention input
   * h [B, T, dModel] (after its norm, what q, k and v are projected from); the returned BlockBias is then asked
   * for each block of query rows. Computed in the caller's scope, so gradients reach the method's variables.
   */
  readonly inputBias?: (h: tf.Tensor3D, layer: number) => BlockBias
  /**
   * replaces the softmax: logits [B, H, rows, end] of query rows [start, start + rows) against keys 0..end-1
   * (scaled q.k plus any bias, WITHOUT the causal mask) -> weights of the same shape, zero wherever key j > query
   * i; the attention output is weights @ v. The method enforces causality itself.
   */
  readonly normalise?: (logits: tf.Tensor4D, start: number, layer: number) => tf.Tensor4D

  /**
   * The positions of training step `step` (1-based) at length T when the method trains at positions other than
   * 0..T-1 (randomized positions, randomized-positions.ts); the decoder passes them to `input` and `queryKey`.
   * Absent: 0..T-1. Evaluation never asks for them.
   */
  readonly trainingPositions?: (T: number, step: number) => ReadonlyArray<number>

  /** the largest T it has a value for (learned absolute: its table size); undefined = unbounded */
  readonly maxLength?: number

  /** variables the optimizer updates */
  readonly trainable: ReadonlyArray<tf.Variable>
  /** stable names of `trainable`, same order (e.g. "layer0/cosCoef"): for checkpoints and `harness inspect` */
  readonly trainableNames?: ReadonlyArray<string>
  /** named non-trainable tensors that define the method (FoPE's fixed coefficients): saved in checkpoints and hashed */
  readonly fixed: Readonly<Record<string, tf.Tensor>>

  /**
   * A view of this embedding for evaluating at `evalLength` with an inference-time extension.
   * Shares trainable variables and fixed tensors (the view must not dispose them). Methods outside the rotary
   * family fail with `EmbeddingError` for any extension other than "none".
   */
  extend(extension: ExtensionSpec, evalLength: number): PositionEmbedding

  describeSpectrum(): SpectrumDescription

  /** frees cached tables; for an owner (not a view) also its variables and fixed tensors */
  dispose(): void
}

export interface EmbeddingModule<Fields extends Schema.Struct.Fields = Schema.Struct.Fields> {
  readonly name: string
  readonly family: EmbeddingFamily
  /** one line for `harness list` */
  readonly description: string
  /** the reference it implements (paper, equation) */
  readonly reference: string
  /** its parameters: each field's type, default and allowed range (params.ts); the module exports it by name too */
  readonly params: Schema.Struct<Fields>
  /** its hooks accept positions other than 0..T-1, so the registry offers it `randomPositions` (randomized positions) */
  readonly takesPositions?: boolean
  /** builds the method; `params` are decoded with `params` (defaults filled in, ranges checked); all randomness from `seed` */
  create(params: Schema.Struct<Fields>["Type"], shape: EmbeddingShape, seed: number): PositionEmbedding
}

/** A bad embedding name, parameter or use. The message names the problem and the fix. */
export class EmbeddingError extends Error {
  override readonly name = "EmbeddingError"
}
