/**
 * Test helpers for the decoder, training and checkpoint tests: minimal position embeddings written inline so these
 * tests do not depend on embeddings/registry.ts. NoPE (nothing), a plain RoPE (half-split layout, base 10000),
 * and a "fixed coefficients" variant that exposes a fixed tensor (checkpoints must save it).
 */
import * as tf from "@tensorflow/tfjs"
import "@tensorflow/tfjs-backend-cpu"
import type { EmbeddingShape, PositionEmbedding } from "../../embeddings/interface.js"
import { EmbeddingError } from "../../embeddings/interface.js"
import type { DecoderConfig } from "../../models/decoder.js"

export const useCpu = async (): Promise<void> => {
  await tf.setBackend("cpu")
  await tf.ready()
}

export const shapeOf = (c: DecoderConfig): EmbeddingShape => ({
  dModel: c.dModel,
  heads: c.heads,
  headDim: c.dModel / c.heads,
  layers: c.layers,
  trainLength: c.trainLength
})

export const nope = (shape: EmbeddingShape, maxLength?: number): PositionEmbedding => {
  const self: PositionEmbedding = {
    name: "nope",
    family: "none",
    params: {},
    shape,
    ...(maxLength !== undefined ? { maxLength } : {}),
    trainable: [],
    fixed: {},
    extend: (ext) => {
      if (ext.method !== "none") throw new EmbeddingError("nope has no extensions")
      return self
    },
    describeSpectrum: () => ({ pairFrequencies: [], kept: [], clipped: [] }),
    dispose: () => {}
  }
  return self
}

/** RoPE (half split) with a fixed per-layer frequency tensor `freqs.layerN` [hd/2], to exercise `fixed` in checkpoints. */
export const rope = (shape: EmbeddingShape): PositionEmbedding => {
  const hd = shape.headDim
  const fixed: Record<string, tf.Tensor> = {}
  const w = Array.from({ length: hd / 2 }, (_, k) => Math.pow(10000, (-2 * k) / hd))
  for (let l = 0; l < shape.layers; l++) fixed[`freqs.layer${l}`] = tf.tensor1d(w, "float32")
  const tables = (T: number, layer: number): [tf.Tensor2D, tf.Tensor2D] => {
    const t = tf.range(0, T, 1, "float32").reshape([T, 1]) // [T, 1]
    const angles = t.mul(fixed[`freqs.layer${layer}`]!.reshape([1, hd / 2])) // [T, hd/2]
    const full = tf.concat([angles, angles], 1) // [T, hd]
    return [tf.cos(full) as tf.Tensor2D, tf.sin(full) as tf.Tensor2D]
  }
  const rot = (x: tf.Tensor4D): tf.Tensor4D => {
    const [B, H, T] = x.shape
    const a = x.slice([0, 0, 0, 0], [B, H, T, hd / 2])
    const b = x.slice([0, 0, 0, hd / 2], [B, H, T, hd / 2])
    return tf.concat([b.neg(), a], 3) as tf.Tensor4D
  }
  const self: PositionEmbedding = {
    name: "rope-test",
    family: "rotary",
    params: { base: 10000 },
    shape,
    queryKey: (q, k, layer) => {
      const [C, S] = tables(q.shape[2], layer)
      return [q.mul(C).add(rot(q).mul(S)) as tf.Tensor4D, k.mul(C).add(rot(k).mul(S)) as tf.Tensor4D]
    },
    trainable: [],
    fixed,
    extend: () => self,
    describeSpectrum: () => ({ pairFrequencies: w, kept: w, clipped: [] }),
    dispose: () => {
      for (const t of Object.values(fixed)) t.dispose()
    }
  }
  return self
}
