/**
 * A decoder-only transformer in the spirit of nanoGPT's model.py, with the FoPE paper's (OLMo-style) recipe:
 *   - pre-norm RMSNorm (eps 1e-6, with a learned gain), no biases anywhere;
 *   - causal multi-head attention; SwiGLU feed-forward (inner width `ffnHidden`, 4 x dModel by default);
 *   - untied input (token) and output embeddings; truncated-normal init (std 0.02, cut at 3 std);
 *   - the position embedding enters ONLY through the interface's hooks (input, queryKey, scoreBias), so the
 *     decoder never switches on a method's name (embeddings/interface.ts).
 * Everything is float32. Weight matrices are stored [in, out] (x @ W); checkpoints say so in their metadata.
 *
 * Notation in shape comments: B batch, T sequence length, V vocabulary, d dModel, H heads, hd = d / H,
 * F ffnHidden.
 */
import * as tf from "@tensorflow/tfjs"
import { type BlockBias, EmbeddingError, type PositionEmbedding } from "../embeddings/interface.js"
import { SeededRandom } from "../embeddings/seeded-random.js"
import { fusedCrossEntropy, fusedMaskedSoftmax, fusedOpsAvailable, fusedRmsNorm, fusedSwiGLU } from "./engine/kernels/fused.js"
import { chunkedCrossEntropy } from "./train/chunked-loss.js"

export interface DecoderConfig {
  readonly vocabSize: number
  readonly dModel: number
  readonly heads: number
  readonly layers: number
  readonly ffnHidden: number
  readonly trainLength: number
}

export interface ForwardOptions {
  /** evaluate with another view (an inference-time extension); default the model's own */
  readonly embedding?: PositionEmbedding
  /** per layer: q, k [B, H, T, hd] before and after the position embedding's queryKey hook; valid only during the call */
  readonly onQueryKey?: (layer: number, pre: { q: tf.Tensor4D; k: tf.Tensor4D }, post: { q: tf.Tensor4D; k: tf.Tensor4D }) => void
  /**
   * Query rows per attention block. Attention runs in blocks of query rows, each against only the keys it may see,
   * so the [B, H, T, T] scores never exist at once (long evaluations). Default: automatic, the largest block whose
   * scores stay within SCORE_ELEMENTS_BUDGET (training lengths run unchunked). Results equal the unchunked ones up to
   * float rounding.
   */
  readonly queryChunk?: number
  /** token lookups (embedding rows, target log-probabilities): default "auto" (gather where the backend can train it) */
  readonly lookup?: "auto" | "gather" | "onehot"
  /**
   * The 1-based training step this forward pass belongs to (the Trainer passes it): a position embedding with
   * `trainingPositions` (randomized positions) then runs at that step's positions instead of 0..T-1. Absent at
   * evaluation, where every method runs at 0..T-1.
   */
  readonly trainingStep?: number
}

/**
 * "gather" where the current backend has UnsortedSegmentSum (the gradient of tf.gather), else "onehot".
 * Decided per call from the kernel registry, so a backend switch (tests, the engine) is picked up.
 */
export const lookupMode = (requested: ForwardOptions["lookup"] = "auto"): "gather" | "onehot" =>
  requested !== "auto" ? requested : tf.getKernel("UnsortedSegmentSum", tf.getBackend()) !== undefined ? "gather" : "onehot"

/**
 * One-hot rows as float32: [N] int32 -> [N, V]. Not tf.oneHot(.., "float32"): the stock wasm OneHot kernel of
 * tfjs 4.22 ignores dtype and writes int32 bits into a float32 tensor (a 1 reads as 1.4e-45); an int32 one-hot
 * followed by a cast is correct on every backend.
 */
const oneHotFloat = (ids: tf.Tensor1D, V: number): tf.Tensor2D => tf.cast(tf.oneHot(ids, V), "float32") as tf.Tensor2D

/** Largest number of attention-score elements (B x H x rows x keys) formed at once by default: 2^24 floats = 64 MiB. */
export const SCORE_ELEMENTS_BUDGET = 2 ** 24
/** Causal masks are cached per length up to this length (a [T, T] float32 mask: 16 MiB at 2048). */
const MASK_CACHE_MAX_LENGTH = 2048

/** RMSNorm epsilon (OLMo / the FoPE paper's recipe). */
export const RMS_NORM_EPS = 1e-6
/** Init std of every weight matrix (truncated at 3 std), GPT-2 / OLMo style. */
export const INIT_STD = 0.02
/** Added to the attention logits above the diagonal. Finite (not -Infinity) so that a row's max stays finite. */
const MASKED = -1e9

interface BlockWeights {
  readonly attnNorm: tf.Variable // [d]
  readonly q: tf.Variable // [d, d]
  readonly k: tf.Variable // [d, d]
  readonly v: tf.Variable // [d, d]
  readonly o: tf.Variable // [d, d]
  readonly mlpNorm: tf.Variable // [d]
  readonly gate: tf.Variable // [d, F]
  readonly up: tf.Variable // [d, F]
  readonly down: tf.Variable // [F, d]
}

/** Checks a configuration and says what is wrong and how to fix it. */
export const validateDecoderConfig = (config: DecoderConfig): void => {
  const positive = ["vocabSize", "dModel", "heads", "layers", "ffnHidden", "trainLength"] as const
  for (const key of positive) {
    const value = config[key]
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`DecoderConfig.${key} must be a positive integer, got ${value}`)
    }
  }
  if (config.dModel % config.heads !== 0) {
    throw new Error(`DecoderConfig: dModel ${config.dModel} is not divisible by heads ${config.heads}; pick heads dividing dModel`)
  }
}

export class Decoder {
  /** the decoder's own parameters in a stable order: checkpoint names (`blocks.0.attn.q.weight`) -> variables */
  readonly namedParameters: ReadonlyArray<readonly [string, tf.Variable]>
  /** namedParameters followed by the position embedding's trainable variables (`pos.<name>.trainable.<i>`) */
  readonly namedTrainable: ReadonlyArray<readonly [string, tf.Variable]>
  readonly trainableVariables: ReadonlyArray<tf.Variable>
  private readonly tokenEmbedding: tf.Variable // [V, d]
  private readonly blocks: ReadonlyArray<BlockWeights>
  private readonly finalNorm: tf.Variable // [d]
  private readonly outputProjection: tf.Variable // [d, V] (untied from the token embedding)
  private readonly causalMasks = new Map<number, tf.Tensor2D>() // T -> [T, T], kept across calls
  private disposed = false

  private constructor(
    readonly config: DecoderConfig,
    readonly embedding: PositionEmbedding,
    /** the seed the weights were drawn from (recorded in checkpoints) */
    readonly seed: number
  ) {
    validateDecoderConfig(config)
    const { vocabSize: V, dModel: d, ffnHidden: F, layers } = config
    const headDim = d / config.heads
    const s = embedding.shape
    if (s.dModel !== d || s.heads !== config.heads || s.headDim !== headDim || s.layers !== layers) {
      throw new EmbeddingError(
        `position embedding "${embedding.name}" was built for dModel ${s.dModel}, heads ${s.heads}, headDim ${s.headDim}, ` +
          `layers ${s.layers}, but the decoder has dModel ${d}, heads ${config.heads}, headDim ${headDim}, layers ${layers}: ` +
          `create the embedding with the decoder's shape`
      )
    }

    // One generator per tensor, named by purpose: adding a tensor never shifts another tensor's draws.
    const named: Array<readonly [string, tf.Variable]> = []
    const matrix = (name: string, rows: number, cols: number): tf.Variable => {
      const rng = SeededRandom.create(seed, `init/${name}`)
      const values = rng.fill(rows * cols, (r) => r.truncatedNormal(INIT_STD, 3))
      // tidy frees the initial-value tensor; the variable (not tracked by tidy) keeps its own reference
      const v = tf.tidy(() => tf.variable(tf.tensor2d(values, [rows, cols], "float32"), true))
      named.push([name, v])
      return v
    }
    const gain = (name: string): tf.Variable => {
      const v = tf.tidy(() => tf.variable(tf.ones([d], "float32"), true))
      named.push([name, v])
      return v
    }

    this.tokenEmbedding = matrix("tok_embeddings.weight", V, d)
    const blocks: BlockWeights[] = []
    for (let l = 0; l < layers; l++) {
      const p = `blocks.${l}`
      blocks.push({
        attnNorm: gain(`${p}.attn_norm.weight`),
        q: matrix(`${p}.attn.q.weight`, d, d),
        k: matrix(`${p}.attn.k.weight`, d, d),
        v: matrix(`${p}.attn.v.weight`, d, d),
        o: matrix(`${p}.attn.o.weight`, d, d),
        mlpNorm: gain(`${p}.mlp_norm.weight`),
        gate: matrix(`${p}.mlp.gate.weight`, d, F),
        up: matrix(`${p}.mlp.up.weight`, d, F),
        down: matrix(`${p}.mlp.down.weight`, F, d)
      })
    }
    this.blocks = blocks
    this.finalNorm = gain("final_norm.weight")
    this.outputProjection = matrix("lm_head.weight", d, V)
    this.namedParameters = named
    this.namedTrainable = [...named, ...embedding.trainable.map((v, i) => [positionTensorName(embedding, `trainable.${i}`), v] as const)]
    this.trainableVariables = this.namedTrainable.map(([, v]) => v)
  }

  static create(config: DecoderConfig, embedding: PositionEmbedding, seed: number): Decoder {
    return new Decoder(config, embedding, seed)
  }

  /** Logits for every position: tokens [B, T] int32 -> [B, T, V]. */
  logits(tokens: tf.Tensor2D, options?: ForwardOptions): tf.Tensor3D {
    const [B, T] = tokens.shape
    const V = this.config.vocabSize
    return tf.tidy(() => tf.matMul(this.hidden(tokens, options), this.outputProjection).reshape([B, T, V]) as tf.Tensor3D) // [B, T, V]
  }

  /** The last hidden states, after the final norm, before the output projection: tokens [B, T] int32 -> [B*T, d]. */
  hidden(tokens: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    this.assertLive()
    const embedding = options?.embedding ?? this.embedding
    const [B, T] = tokens.shape
    if (embedding.maxLength !== undefined && T > embedding.maxLength) {
      throw new EmbeddingError(
        `position embedding "${embedding.name}" has values up to length ${embedding.maxLength}, asked for ${T}: ` +
          `evaluate at lengths <= ${embedding.maxLength} (report longer ones as not applicable)`
      )
    }
    if (tokens.dtype !== "int32") {
      throw new Error(`Decoder.logits wants int32 token ids, got ${tokens.dtype}: build them with tf.tensor2d(ids, shape, "int32")`)
    }
    const H = this.config.heads
    const queryChunk = options?.queryChunk ?? Math.max(1, Math.floor(SCORE_ELEMENTS_BUDGET / (B * H * T)))
    if (!Number.isInteger(queryChunk) || queryChunk < 1) throw new Error(`queryChunk must be a positive integer, got ${queryChunk}`)
    const mask = queryChunk >= T && T <= MASK_CACHE_MAX_LENGTH ? this.causalMask(T) : undefined // [T, T]
    return tf.tidy(() => {
      const { vocabSize: V, dModel: d } = this.config
      // Token embedding: a row lookup (tf.gather) where the backend has its gradient kernel (UnsortedSegmentSum:
      // cpu, and wasm once the engine registers it); otherwise a one-hot matmul [B*T, V] @ [V, d], cheap for V = 256
      // but not for GPT-2's 50k vocabulary. Both give the same rows exactly (a product with 1 and sums of 0).
      const ids = tokens.reshape([B * T]) as tf.Tensor1D // [B*T]
      let x: tf.Tensor2D =
        lookupMode(options?.lookup) === "gather"
          ? (tf.gather(this.tokenEmbedding, ids) as tf.Tensor2D) // [B*T, d]
          : tf.matMul(oneHotFloat(ids, V), this.tokenEmbedding) // [B*T, V] @ [V, d] -> [B*T, d]
      // positions other than 0..T-1 only for a training step of a method that asks for them (randomized positions)
      const positions = options?.trainingStep !== undefined ? embedding.trainingPositions?.(T, options.trainingStep) : undefined
      if (embedding.input) {
        const signal = embedding.input(T, positions) // [T, d]
        x = x
          .reshape([B, T, d])
          .add(signal)
          .reshape([B * T, d]) as tf.Tensor2D // [B*T, d]
      }
      for (let l = 0; l < this.blocks.length; l++) {
        // one scope per block: without a gradient tape (evaluation) each block's attention scores and activations are
        // freed before the next block runs, so peak memory is one block's, not all layers'; under a tape tfjs keeps
        // (clones) what backprop needs, so training is unchanged. Same operations either way: same bits.
        const input = x
        x = tf.tidy(() => this.block(input, l, B, T, { mask, queryChunk, positions }, embedding, options?.onQueryKey)) // [B*T, d]
      }
      return rmsNorm(x, this.finalNorm) // [B*T, d]
    })
  }

  /** Per-token next-token cross-entropy in nats: tokens [B, T+1] int32 -> [B, T]. */
  tokenLosses(tokens: tf.Tensor2D, options?: ForwardOptions): tf.Tensor2D {
    this.assertLive()
    const [B, T1] = tokens.shape
    if (T1 < 2) throw new Error(`tokenLosses needs at least 2 tokens per row (input + next), got ${T1}`)
    const T = T1 - 1
    return tf.tidy(() => {
      const inputs = tokens.slice([0, 0], [B, T]) as tf.Tensor2D // [B, T]
      const targets = tokens.slice([0, 1], [B, T]) as tf.Tensor2D // [B, T]
      const logits = this.logits(inputs, options) // [B, T, V]
      // log-softmax subtracts the row max first: no overflow for large logits (no NaN).
      const logProbs = tf.logSoftmax(logits, -1) // [B, T, V]
      const V = this.config.vocabSize
      if (lookupMode(options?.lookup) === "gather") {
        // pick log p[b, t, target] from the flat [B*T*V] log-probabilities at (b*T + t)*V + target
        const flatIndex = tf.range(0, B * T * V, V, "int32").add(targets.reshape([B * T])) as tf.Tensor1D // [B*T] int32
        return tf.neg(tf.gather(logProbs.reshape([B * T * V]), flatIndex)).reshape([B, T]) as tf.Tensor2D // [B, T]
      }
      const picked = oneHotFloat(targets.reshape([B * T]) as tf.Tensor1D, V).reshape([B, T, V]) // [B, T, V]
      return tf.neg(tf.sum(tf.mul(logProbs, picked), -1)) as tf.Tensor2D // [B, T]
    })
  }

  /**
   * Mean next-token cross-entropy over all B*T predictions of tokens [B, T+1]. With `lossChunk` < B*T the loss
   * and its gradient are computed over that many positions at a time and the [B, T, V] logits never exist
   * (models/train/chunked-loss.ts); without it, the plain path below (its bits are what the baselines hold).
   */
  loss(tokens: tf.Tensor2D, options?: ForwardOptions & { readonly lossChunk?: number }): tf.Scalar {
    const [B, T1] = tokens.shape
    const chunk = options?.lossChunk
    if (chunk !== undefined && chunk < B * (T1 - 1)) {
      return tf.tidy(() => {
        const T = T1 - 1
        const h = this.hidden(tokens.slice([0, 0], [B, T]) as tf.Tensor2D, options) // [B*T, d]
        const targets = tokens.slice([0, 1], [B, T]).reshape([B * T]) as tf.Tensor1D // [B*T]
        return chunkedCrossEntropy(h, this.outputProjection, targets, chunk)
      })
    }
    if (fusedOpsAvailable()) {
      // the native engine's fused cross-entropy (engine/kernels/fused.ts): the same mean, one kernel each way
      return tf.tidy(() => {
        const [, T1] = tokens.shape
        const inputs = tokens.slice([0, 0], [B, T1 - 1]) as tf.Tensor2D // [B, T]
        const targets = tokens.slice([0, 1], [B, T1 - 1]).reshape([B * (T1 - 1)]) // [B*T]
        const logits = tf.matMul(this.hidden(inputs, options), this.outputProjection) as tf.Tensor2D // [B*T, V]
        return fusedCrossEntropy(logits, targets)
      })
    }
    return tf.tidy(() => tf.mean(this.tokenLosses(tokens, options)) as tf.Scalar)
  }

  /**
   * Parameters of the decoder plus the position embedding's trainable ones. `includeEmbeddings: false`
   * leaves out the token embedding and the output projection (the "without embeddings" count of scales.ts).
   * Default: true (everything).
   */
  parameterCount(options?: { includeEmbeddings?: boolean }): number {
    const includeEmbeddings = options?.includeEmbeddings ?? true
    let total = 0
    for (const v of this.trainableVariables) {
      if (!includeEmbeddings && (v === this.tokenEmbedding || v === this.outputProjection)) continue
      total += v.size
    }
    return total
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    for (const [, v] of this.namedParameters) v.dispose()
    for (const m of this.causalMasks.values()) m.dispose()
    this.causalMasks.clear()
    this.embedding.dispose()
  }

  /** One pre-norm block: x + attn(norm(x)), then + swiglu(norm(x)). x [B*T, d] -> [B*T, d]. */
  private block(
    x: tf.Tensor2D,
    layer: number,
    B: number,
    T: number,
    attention: {
      readonly mask: tf.Tensor2D | undefined
      readonly queryChunk: number
      readonly positions?: ReadonlyArray<number> | undefined
    },
    embedding: PositionEmbedding,
    onQueryKey: ForwardOptions["onQueryKey"]
  ): tf.Tensor2D {
    const w = this.blocks[layer]!
    const { dModel: d, heads: H } = this.config
    const hd = d / H

    // --- attention ---
    const h = rmsNorm(x, w.attnNorm) // [B*T, d]
    const heads = (m: tf.Tensor2D): tf.Tensor4D => m.reshape([B, T, H, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D // [B*T, d] -> [B, H, T, hd]
    const q0 = heads(tf.matMul(h, w.q)) // [B, H, T, hd]
    const k0 = heads(tf.matMul(h, w.k)) // [B, H, T, hd]
    const v = heads(tf.matMul(h, w.v)) // [B, H, T, hd]
    const [q, k] = embedding.queryKey ? embedding.queryKey(q0, k0, layer, attention.positions) : [q0, k0] // [B, H, T, hd] each
    onQueryKey?.(layer, { q: q0, k: k0 }, { q, k })

    const bias = embedding.scoreBias ? embedding.scoreBias(T, layer) : undefined // [H, T, T]
    // hooks acting inside attention (data-dependent bias, another normalisation), asked per block of query rows
    const inside: AttentionInside = {
      ...(embedding.inputBias ? { blockBias: embedding.inputBias(h.reshape([B, T, d]) as tf.Tensor3D, layer) } : {}),
      ...(embedding.normalise ? { normalise: (logits: tf.Tensor4D, start: number) => embedding.normalise!(logits, start, layer) } : {})
    }
    const attended = this.attend(q.mul(1 / Math.sqrt(hd)) as tf.Tensor4D, k, v, bias, attention.mask, attention.queryChunk, inside) // [B, H, T, hd]
    const merged = attended.transpose([0, 2, 1, 3]).reshape([B * T, d]) as tf.Tensor2D // [B*T, d]
    const x1 = x.add(tf.matMul(merged, w.o)) as tf.Tensor2D // [B*T, d]

    // --- SwiGLU feed-forward: down(silu(h W_gate) * (h W_up)) (Shazeer 2020, "GLU variants") ---
    const h2 = rmsNorm(x1, w.mlpNorm) // [B*T, d]
    const gate = tf.matMul(h2, w.gate) // [B*T, F]
    const inner = fusedOpsAvailable()
      ? fusedSwiGLU(gate, tf.matMul(h2, w.up)) // [B*T, F], one kernel each way (engine/kernels/fused.ts)
      : (gate.mul(tf.sigmoid(gate)).mul(tf.matMul(h2, w.up)) as tf.Tensor2D) // [B*T, F]
    return x1.add(tf.matMul(inner, w.down)) as tf.Tensor2D // [B*T, d]
  }

  /**
   * softmax(q k^T + bias + causal mask) v, q already scaled by 1/sqrt(hd) (Vaswani et al. 2017, eq. 1), scaled on
   * [B, H, T, hd] rather than on the larger [B, H, T, T] scores. The bias and the mask are summed at [H, rows, keys]
   * before being broadcast over the batch: one [B, H, rows, keys] addition instead of two.
   * With queryChunk < T, query rows go in blocks [start, end), each against keys 0..end-1 only (the ones it may
   * see), each block in its own tidy: peak memory O(B H chunk T) instead of O(B H T^2).
   * A method's input-dependent bias is added per block after the mask; a method's own normalisation replaces the
   * softmax and gets the logits without the mask (it enforces causality itself). Without those hooks the operations
   * are exactly the plain softmax path's, in the same order (same bits).
   */
  private attend(
    q: tf.Tensor4D, // [B, H, T, hd], scaled
    k: tf.Tensor4D, // [B, H, T, hd]
    v: tf.Tensor4D, // [B, H, T, hd]
    bias: tf.Tensor3D | undefined, // [H, T, T]
    cachedMask: tf.Tensor2D | undefined, // [T, T]
    queryChunk: number,
    inside: AttentionInside = {}
  ): tf.Tensor4D {
    const [B, H, T, hd] = q.shape
    // attention weights of query rows [start, end) from their scores [B, H, rows, end]
    const weights = (
      scores: tf.Tensor4D,
      start: number,
      end: number,
      staticBias: tf.Tensor | undefined,
      mask: () => tf.Tensor2D
    ): tf.Tensor4D => {
      const dynamic = inside.blockBias?.(start, end) // [B, H, rows, end]
      if (inside.normalise) {
        const withStatic = staticBias ? (scores.add(staticBias) as tf.Tensor4D) : scores
        return inside.normalise(dynamic ? (withStatic.add(dynamic) as tf.Tensor4D) : withStatic, start) // [B, H, rows, end]
      }
      const m = mask()
      if (!staticBias && !dynamic && fusedOpsAvailable()) return fusedMaskedSoftmax(scores, m) // one kernel each way (engine/kernels/fused.ts)
      const masked = scores.add(staticBias ? staticBias.add(m) : m) // [B, H, rows, end]
      return tf.softmax(dynamic ? masked.add(dynamic) : masked, -1) as tf.Tensor4D // [B, H, rows, end]
    }
    if (queryChunk >= T) {
      const scores = tf.matMul(q, k, false, true) as tf.Tensor4D // [B, H, T, T]
      const probs = weights(scores, 0, T, bias, () => cachedMask ?? causalMaskBlock(0, T, T)) // [B, H, T, T]
      return tf.matMul(probs, v) // [B, H, T, hd]
    }
    const blocks: tf.Tensor4D[] = []
    for (let start = 0; start < T; start += queryChunk) {
      const end = Math.min(T, start + queryChunk)
      const rows = end - start
      blocks.push(
        tf.tidy(() => {
          const qc = q.slice([0, 0, start, 0], [B, H, rows, hd]) // [B, H, rows, hd]
          const kc = k.slice([0, 0, 0, 0], [B, H, end, hd]) // [B, H, end, hd]
          const vc = v.slice([0, 0, 0, 0], [B, H, end, hd]) // [B, H, end, hd]
          const blockBias = bias ? bias.slice([0, start, 0], [H, rows, end]) : undefined // [H, rows, end]
          const scores = tf.matMul(qc, kc, false, true) as tf.Tensor4D // [B, H, rows, end]
          return tf.matMul(
            weights(scores, start, end, blockBias, () => causalMaskBlock(start, end, end)),
            vc
          ) as tf.Tensor4D // [B, H, rows, hd]
        })
      )
    }
    return tf.concat(blocks, 2) // [B, H, T, hd] (the blocks are freed by the caller's tidy)
  }

  /** [T, T] additive causal mask (0 on and below the diagonal, MASKED above), cached per length. */
  private causalMask(T: number): tf.Tensor2D {
    let mask = this.causalMasks.get(T)
    if (!mask) {
      mask = tf.keep(causalMaskBlock(0, T, T))
      this.causalMasks.set(T, mask)
    }
    return mask
  }

  private assertLive(): void {
    if (this.disposed) throw new Error("this Decoder was disposed; create a new one (or load a checkpoint)")
  }
}

/** What a position embedding does inside attention besides a static bias (embeddings/interface.ts). */
interface AttentionInside {
  readonly blockBias?: BlockBias
  /** logits [B, H, rows, end] of query rows from `start`, unmasked -> weights */
  readonly normalise?: (logits: tf.Tensor4D, start: number) => tf.Tensor4D
}

/** Rows start..end-1 of the additive causal mask over `keys` keys: [end - start, keys], MASKED where key j > query i. */
const causalMaskBlock = (start: number, end: number, keys: number): tf.Tensor2D => {
  const rows = end - start
  const values = new Float32Array(rows * keys)
  for (let r = 0; r < rows; r++) for (let j = start + r + 1; j < keys; j++) values[r * keys + j] = MASKED
  return tf.tensor2d(values, [rows, keys], "float32")
}

/**
 * Checkpoint name of one of a position embedding's tensors: `pos.<method>.<key>`, e.g. FoPE's fixed
 * `layer0/cosCoef` -> `pos.fope.layer0.cosCoef` (slashes become dots; a key that already starts with `<method>.` is not prefixed twice).
 */
export const positionTensorName = (embedding: PositionEmbedding, key: string): string => {
  const dotted = key.replace(/\//g, ".") // "layer0/cosCoef" -> "layer0.cosCoef"
  return dotted.startsWith(`${embedding.name}.`) ? `pos.${dotted}` : `pos.${embedding.name}.${dotted}`
}

/** RMSNorm (Zhang & Sennrich 2019): x / sqrt(mean(x^2) + eps) * g. x [N, d], g [d] -> [N, d]. */
export const rmsNorm = (x: tf.Tensor2D, gain: tf.Tensor1D | tf.Variable): tf.Tensor2D =>
  fusedOpsAvailable()
    ? fusedRmsNorm(x, gain, RMS_NORM_EPS) // one kernel each way on the native engine (engine/kernels/fused.ts)
    : tf.tidy(() => {
        const meanSquare = tf.mean(tf.square(x), -1, true) // [N, 1]
        return x.mul(tf.rsqrt(meanSquare.add(RMS_NORM_EPS))).mul(gain) as tf.Tensor2D // [N, d]
      })
