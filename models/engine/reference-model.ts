/**
 * The engine benchmark's reference model (the same model as its PyTorch peer): a pre-LayerNorm decoder,
 * 2 layers, d = 128, 4 heads, MLP 4d (ReLU), no position embedding (NoPE: causal attention alone), untied
 * output projection, vocab 64 (or 256), trained on batch 8 x 128 tokens with Adam.
 * About 2.9 GFLOP per training step (3x the forward; see trainStepFlops).
 *
 * Self-contained on purpose: engine speed must not depend on models/decoder.ts changing under it; the same
 * architecture is written in PyTorch in torch-peer.ts for the side-by-side ratio.
 */
import * as tf from "@tensorflow/tfjs"
import { SeededRandom } from "../../embeddings/seeded-random.js"
import { fusedBiasRelu, fusedCrossEntropy, fusedLayerNorm, fusedMaskedSoftmax, fusedOpsAvailable } from "./kernels/fused.js"

export interface ReferenceModelConfig {
  readonly vocab: number
  readonly dModel: number
  readonly heads: number
  readonly layers: number
  readonly ffnHidden: number
  readonly seqLength: number
  readonly batch: number
  /** "gather": tf.gather (gradient: UnsortedSegmentSum); "onehot": one-hot [B*T, V] x [V, d] matmul. */
  readonly embedding: "gather" | "onehot"
}

export const REFERENCE_MODEL: ReferenceModelConfig = {
  vocab: 64,
  dModel: 128,
  heads: 4,
  layers: 2,
  ffnHidden: 512,
  seqLength: 128,
  batch: 8,
  embedding: "gather"
}

interface Layer {
  readonly ln1g: tf.Variable
  readonly ln1b: tf.Variable
  readonly wq: tf.Variable
  readonly wk: tf.Variable
  readonly wv: tf.Variable // [d, d] each
  readonly wo: tf.Variable // [d, d]
  readonly ln2g: tf.Variable
  readonly ln2b: tf.Variable
  readonly w1: tf.Variable
  readonly b1: tf.Variable // [d, f], [f]
  readonly w2: tf.Variable
  readonly b2: tf.Variable // [f, d], [d]
}

/** Forward matmul FLOPs per token (2 per multiply-add), then x3 for forward + backward. */
export const forwardFlopsPerToken = (c: ReferenceModelConfig, length = c.seqLength): number => {
  const d = c.dModel
  const perLayer = 2 * (3 * d * d + d * d + 2 * d * c.ffnHidden) + 2 * 2 * length * d // projections + QK^T, PV (full T x T)
  const embed = c.embedding === "onehot" ? 2 * c.vocab * d : 0
  return c.layers * perLayer + 2 * d * c.vocab + embed
}
export const trainStepFlops = (c: ReferenceModelConfig): number => 3 * forwardFlopsPerToken(c) * c.batch * c.seqLength

let instances = 0

export class ReferenceModel {
  private constructor(
    readonly config: ReferenceModelConfig,
    private readonly embed: tf.Variable, // [V, d]
    private readonly layers: ReadonlyArray<Layer>,
    private readonly lnfg: tf.Variable,
    private readonly lnfb: tf.Variable,
    private readonly out: tf.Variable, // [d, V]
    private readonly masks: Map<number, tf.Tensor2D>
  ) {}

  static create(config: ReferenceModelConfig, seed: number): ReferenceModel {
    const rng = SeededRandom.create(seed, "engine/reference-model/init")
    const d = config.dModel
    const f = config.ffnHidden
    const v = (shape: number[], std: number, name: string): tf.Variable =>
      tf.variable(
        tf.tensor(
          rng.fill(
            shape.reduce((p, x) => p * x, 1),
            (r) => r.truncatedNormal(std)
          ),
          shape
        ),
        true,
        name
      )
    const ones = (n: number, name: string) => tf.variable(tf.ones([n]), true, name)
    const zeros = (n: number, name: string) => tf.variable(tf.zeros([n]), true, name)
    const std = 0.02
    const residualStd = std / Math.sqrt(2 * config.layers) // GPT-2 scaled init of residual projections
    const uid = `${seed}/${++instances}` // tfjs variable names are process-global and must be unique
    const layers = Array.from(
      { length: config.layers },
      (_, i): Layer => ({
        ln1g: ones(d, `ref/${uid}/l${i}/ln1g`),
        ln1b: zeros(d, `ref/${uid}/l${i}/ln1b`),
        wq: v([d, d], std, `ref/${uid}/l${i}/wq`),
        wk: v([d, d], std, `ref/${uid}/l${i}/wk`),
        wv: v([d, d], std, `ref/${uid}/l${i}/wv`),
        wo: v([d, d], residualStd, `ref/${uid}/l${i}/wo`),
        ln2g: ones(d, `ref/${uid}/l${i}/ln2g`),
        ln2b: zeros(d, `ref/${uid}/l${i}/ln2b`),
        w1: v([d, f], std, `ref/${uid}/l${i}/w1`),
        b1: zeros(f, `ref/${uid}/l${i}/b1`),
        w2: v([f, d], residualStd, `ref/${uid}/l${i}/w2`),
        b2: zeros(d, `ref/${uid}/l${i}/b2`)
      })
    )
    return new ReferenceModel(
      config,
      v([config.vocab, d], std, `ref/${uid}/embed`),
      layers,
      ones(d, `ref/${uid}/lnfg`),
      zeros(d, `ref/${uid}/lnfb`),
      v([d, config.vocab], std, `ref/${uid}/out`),
      new Map()
    )
  }

  get variables(): tf.Variable[] {
    return [this.embed, ...this.layers.flatMap((l) => Object.values(l) as tf.Variable[]), this.lnfg, this.lnfb, this.out]
  }

  /** Additive causal mask [T, T]: 0 on and below the diagonal, -1e9 above; built once per length. */
  private mask(T: number): tf.Tensor2D {
    let m = this.masks.get(T)
    if (m === undefined) {
      // kept: it is created inside the caller's tidy but lives as long as the model
      m = tf.keep(tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9)) as tf.Tensor2D)
      this.masks.set(T, m)
    }
    return m
  }

  /** LayerNorm over the last axis: one fused op with the native kernels (kernels/fused.ts), else the op chain. */
  private layerNorm(x: tf.Tensor2D, g: tf.Variable, b: tf.Variable): tf.Tensor2D {
    if (fusedOpsAvailable()) return fusedLayerNorm(x, g, b, 1e-5)
    const { mean, variance } = tf.moments(x, -1, true)
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b) as tf.Tensor2D
  }

  /**
   * softmax(q k^T + causal mask) v, q already scaled by 1/sqrt(hd) (folded into the [.., T, hd] tensor, not the
   * [.., T, T] scores). With `queryChunk`, query rows go in blocks, each against only the keys it may see
   * (0..end of block), each block in its own tidy: peak memory O(chunk x T) instead of O(T^2) per head.
   */
  private attention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D, queryChunk?: number): tf.Tensor4D {
    const [B, H, T, hd] = q.shape
    if (queryChunk === undefined || queryChunk >= T) {
      if (fusedOpsAvailable()) return tf.matMul(fusedMaskedSoftmax(tf.matMul(q, k, false, true), mask), v) // [B, H, T, hd]
      const scores = tf.add(tf.matMul(q, k, false, true), mask) // [B, H, T, T]
      return tf.matMul(tf.softmax(scores), v) // [B, H, T, hd]
    }
    const blocks: tf.Tensor4D[] = []
    for (let start = 0; start < T; start += queryChunk) {
      const end = Math.min(T, start + queryChunk)
      blocks.push(
        tf.tidy(() => {
          const qc = tf.slice(q, [0, 0, start, 0], [B, H, end - start, hd]) // [B, H, c, hd]
          const kc = tf.slice(k, [0, 0, 0, 0], [B, H, end, hd]) // [B, H, end, hd]
          const vc = tf.slice(v, [0, 0, 0, 0], [B, H, end, hd])
          const mc = tf.slice(mask, [start, 0], [end - start, end]) // [c, end]
          return tf.matMul(tf.softmax(tf.add(tf.matMul(qc, kc, false, true), mc)), vc) as tf.Tensor4D // [B, H, c, hd]
        })
      )
    }
    return tf.concat(blocks, 2)
  }

  /** Logits [B*T, V] for inputs [B, T] int32. `queryChunk`: see attention (evaluation at long lengths). */
  logits(inputs: tf.Tensor2D, options: { queryChunk?: number } = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const [B, T] = inputs.shape
      const { dModel: d, heads: H, vocab: V } = this.config
      const hd = d / H
      const flat = tf.reshape(inputs, [B * T]) // [B*T]
      let x: tf.Tensor2D =
        this.config.embedding === "gather"
          ? (tf.gather(this.embed, flat) as tf.Tensor2D) // [B*T, d]
          : tf.matMul(tf.oneHot(flat, V, 1, 0, "float32"), this.embed) // [B*T, V] x [V, d]
      const mask = this.mask(T)
      for (const l of this.layers) {
        const xn = this.layerNorm(x, l.ln1g, l.ln1b) // [B*T, d]
        // Separate q/k/v projections, not one [d, 3d] product split by a 5-D transpose: wasm's rank-5
        // Transpose is ~150x slower than its rank-4 one (25 ms vs 0.16 ms for this size).
        const heads = (w: tf.Variable) => tf.transpose(tf.reshape(tf.matMul(xn, w), [B, T, H, hd]), [0, 2, 1, 3]) as tf.Tensor4D // [B, H, T, hd]
        const q = heads(l.wq)
        const k = heads(l.wk)
        const v = heads(l.wv)
        const attended = this.attention(tf.mul(q, 1 / Math.sqrt(hd)) as tf.Tensor4D, k, v, mask, options.queryChunk) // [B, H, T, hd]
        const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [B * T, d]) // [B*T, d]
        x = tf.add(x, tf.matMul(merged, l.wo))
        const projected = tf.matMul(this.layerNorm(x, l.ln2g, l.ln2b), l.w1) // [B*T, f]
        const hidden = fusedOpsAvailable() ? fusedBiasRelu(projected, l.b1) : tf.relu(tf.add(projected, l.b1)) // [B*T, f]
        x = tf.add(x, tf.add(tf.matMul(hidden, l.w2), l.b2))
      }
      return tf.matMul(this.layerNorm(x, this.lnfg, this.lnfb), this.out) // [B*T, V]
    })
  }

  /** Mean next-token cross-entropy (nats); tokens [B, T+1] int32. */
  loss(tokens: tf.Tensor2D, options: { queryChunk?: number } = {}): tf.Scalar {
    return tf.tidy(() => {
      const [B, T1] = tokens.shape
      const T = T1 - 1
      const inputs = tf.slice(tokens, [0, 0], [B, T]) as tf.Tensor2D
      const targets = tf.reshape(tf.slice(tokens, [0, 1], [B, T]), [B * T])
      const logits = this.logits(inputs, options)
      if (fusedOpsAvailable()) return fusedCrossEntropy(logits, targets)
      return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, this.config.vocab), logits) as tf.Scalar
    })
  }

  dispose(): void {
    tf.dispose(this.variables)
    for (const m of this.masks.values()) m.dispose()
    this.masks.clear()
  }
}

/** A seeded batch [batch, length + 1] of token ids (uniform: speed does not depend on the data). */
export const referenceBatch = (rng: SeededRandom, config: ReferenceModelConfig, length = config.seqLength): tf.Tensor2D => {
  const n = config.batch * (length + 1)
  const ids = new Int32Array(n)
  for (let i = 0; i < n; i++) ids[i] = rng.int(config.vocab)
  return tf.tensor2d(ids, [config.batch, length + 1], "int32")
}
