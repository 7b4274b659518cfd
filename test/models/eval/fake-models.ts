/**
 * Small models for the evaluation tests that implement the evaluation contract (models/eval/model.ts) without
 * a transformer: their exact answers are known, so the evaluations themselves are what is tested.
 */
import * as tf from "@tensorflow/tfjs"
import "@tensorflow/tfjs-backend-cpu"
import { EmbeddingError, type EmbeddingFamily, type PositionEmbedding } from "../../../embeddings/interface.js"
import { SeededRandom } from "../../../embeddings/seeded-random.js"
import type { EvalForwardOptions, EvaluableModel } from "../../../models/eval/model.js"

export const useCpu = async (): Promise<void> => {
  await tf.setBackend("cpu")
  await tf.ready()
}

export interface FakeEmbeddingOptions {
  readonly name?: string
  readonly family?: EmbeddingFamily
  readonly heads?: number
  readonly headDim?: number
  readonly layers?: number
  readonly maxLength?: number
  readonly pairFrequencies?: ReadonlyArray<number>
}

/** An embedding with no hooks; counts dispose() calls (views made by a factory must be disposed by the evaluation). */
export const fakeEmbedding = (o: FakeEmbeddingOptions = {}): PositionEmbedding & { disposed: number } => {
  const heads = o.heads ?? 2
  const headDim = o.headDim ?? 8
  const self: PositionEmbedding & { disposed: number } = {
    name: o.name ?? "fake",
    family: o.family ?? "none",
    params: {},
    shape: { dModel: heads * headDim, heads, headDim, layers: o.layers ?? 1, trainLength: 16 },
    ...(o.maxLength !== undefined ? { maxLength: o.maxLength } : {}),
    trainable: [],
    fixed: {},
    extend: (ext) => {
      if (ext.method !== "none") throw new EmbeddingError(`${self.name} has no extension ${ext.method}`)
      return self
    },
    describeSpectrum: () => ({ pairFrequencies: o.pairFrequencies ?? [], kept: [], clipped: [] }),
    disposed: 0,
    dispose: () => {
      self.disposed++
    }
  }
  return self
}

/** Per-token cross-entropy from a logits function: tokens [B, T+1] -> [B, T] (the Decoder's definition). */
const lossesFromLogits =
  (logits: (tokens: tf.Tensor2D, o?: EvalForwardOptions) => tf.Tensor3D, V: number) =>
  (tokens: tf.Tensor2D, options?: EvalForwardOptions): tf.Tensor2D =>
    tf.tidy(() => {
      const [B, T1] = tokens.shape
      const inputs = tokens.slice([0, 0], [B, T1 - 1]) as tf.Tensor2D // [B, T]
      const targets = tokens.slice([0, 1], [B, T1 - 1]) as tf.Tensor2D // [B, T]
      const logProbs = tf.logSoftmax(logits(inputs, options), -1) // [B, T, V]
      return tf.neg(tf.sum(tf.mul(logProbs, tf.oneHot(targets, V, 1, 0, "float32")), -1)) as tf.Tensor2D
    })

/** A model from a JS function that fills the logits of every position: rows -> [B*T*V]. */
export const modelFromLogits = (
  V: number,
  fill: (rows: Int32Array[], T: number) => Float32Array, // -> [B*T*V]
  embedding: PositionEmbedding = fakeEmbedding(),
  extra: { onLogits?: (rows: Int32Array[], options?: EvalForwardOptions) => void; layers?: number; heads?: number } = {}
): EvaluableModel & { calls: Int32Array[][] } => {
  const calls: Int32Array[][] = []
  const logits = (tokens: tf.Tensor2D, options?: EvalForwardOptions): tf.Tensor3D => {
    const [B, T] = tokens.shape
    const ids = tokens.dataSync()
    const rows = Array.from({ length: B }, (_, b) => Int32Array.from(ids.subarray(b * T, (b + 1) * T)))
    calls.push(rows)
    extra.onLogits?.(rows, options)
    return tf.tensor3d(fill(rows, T), [B, T, V], "float32")
  }
  const tokenLosses = (tokens: tf.Tensor2D, options?: EvalForwardOptions): tf.Tensor2D => {
    const [B, T1] = tokens.shape
    const ids = tokens.dataSync()
    // record the full [B, T+1] rows the evaluation asked about
    calls.push(Array.from({ length: B }, (_, b) => Int32Array.from(ids.subarray(b * T1, (b + 1) * T1))))
    return lossesFromLogits((x, o) => {
      const [Bx, T] = x.shape
      const xs = x.dataSync()
      const rows = Array.from({ length: Bx }, (_, b) => Int32Array.from(xs.subarray(b * T, (b + 1) * T)))
      extra.onLogits?.(rows, o)
      return tf.tensor3d(fill(rows, T), [Bx, T, V], "float32")
    }, V)(tokens, options)
  }
  return {
    config: { vocabSize: V, heads: extra.heads ?? embedding.shape.heads, layers: extra.layers ?? embedding.shape.layers, trainLength: 16 },
    embedding,
    logits,
    tokenLosses,
    calls
  }
}

/** Every next token equally likely: loss ln V everywhere, perplexity V. */
export const uniformModel = (V: number, embedding?: PositionEmbedding) =>
  modelFromLogits(V, (rows, T) => new Float32Array(rows.length * T * V), embedding)

/** A bigram table fitted with add-one smoothing: logits[t] = ln p(next | token t). */
export const bigramModel = (V: number, data: Int32Array) => {
  const counts = new Float64Array(V * V).fill(1)
  for (let i = 0; i + 1 < data.length; i++) counts[data[i]! * V + data[i + 1]!]! += 1
  const logp = new Float32Array(V * V)
  for (let a = 0; a < V; a++) {
    let s = 0
    for (let b = 0; b < V; b++) s += counts[a * V + b]!
    for (let b = 0; b < V; b++) logp[a * V + b] = Math.log(counts[a * V + b]! / s)
  }
  const model = modelFromLogits(V, (rows, T) => {
    const out = new Float32Array(rows.length * T * V)
    rows.forEach((r, b) => {
      for (let t = 0; t < T; t++) out.set(logp.subarray(r[t]! * V, (r[t]! + 1) * V), (b * T + t) * V)
    })
    return out
  })
  return { model, logp }
}

/** At every position t, puts the mass on one token chosen from the prefix r[0..t] (a deterministic "language model"). */
export const nextTokenModel = (V: number, next: (prefix: Int32Array) => number, embedding?: PositionEmbedding) =>
  modelFromLogits(
    V,
    (rows, T) => {
      const out = new Float32Array(rows.length * T * V)
      rows.forEach((r, b) => {
        for (let t = 0; t < T; t++) out[(b * T + t) * V + next(r.subarray(0, t + 1))] = 10
      })
      return out
    },
    embedding
  )

/**
 * A model that only calls onQueryKey with chosen post-embedding q and k, [B, H, T, hd], for every layer
 * (logits are zeros). `make(layer, B, T)` returns the q and k values.
 */
export const queryKeyModel = (
  embedding: PositionEmbedding,
  layers: number,
  make: (layer: number, B: number, T: number) => { q: Float32Array; k: Float32Array },
  V = 8
): EvaluableModel => {
  const { heads: H, headDim: hd } = embedding.shape
  return {
    config: { vocabSize: V, heads: H, layers, trainLength: 16 },
    embedding,
    logits: (tokens, options) =>
      tf.tidy(() => {
        const [B, T] = tokens.shape
        for (let l = 0; l < layers; l++) {
          const { q, k } = make(l, B, T)
          const qt = tf.tensor4d(q, [B, H, T, hd])
          const kt = tf.tensor4d(k, [B, H, T, hd])
          options?.onQueryKey?.(l, { q: qt, k: kt }, { q: qt, k: kt })
        }
        return tf.zeros([B, T, V]) as tf.Tensor3D
      }),
    tokenLosses: () => {
      throw new Error("not used")
    }
  }
}

/** RoPE (half-split layout) applied in JS to x [B, H, T, hd]: pair k = (x[k], x[k + hd/2]) rotated by t*w_k. */
export const ropeRotate = (x: Float32Array, B: number, H: number, T: number, hd: number, w: ReadonlyArray<number>): Float32Array => {
  const out = new Float32Array(x.length)
  const P = hd / 2
  for (let bh = 0; bh < B * H; bh++) {
    for (let t = 0; t < T; t++) {
      const base = (bh * T + t) * hd
      for (let k = 0; k < P; k++) {
        const c = Math.cos(t * w[k]!)
        const s = Math.sin(t * w[k]!)
        const a = x[base + k]!
        const b = x[base + k + P]!
        out[base + k] = a * c - b * s
        out[base + k + P] = b * c + a * s
      }
    }
  }
  return out
}

/** Standard normal values from a seeded generator. */
export const normals = (n: number, seed: number, purpose: string): Float32Array =>
  SeededRandom.create(seed, purpose).fill(n, (r) => r.normal())
