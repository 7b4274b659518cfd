/** Shared pieces of the embedding tests: a cpu backend, shapes, seeded tensors. */
import * as tf from "@tensorflow/tfjs"
import "@tensorflow/tfjs-backend-cpu"
import type { EmbeddingShape } from "../../embeddings/interface.js"
import { SeededRandom } from "../../embeddings/seeded-random.js"

export const useCpu = async (): Promise<void> => {
  await tf.setBackend("cpu")
  await tf.ready()
}

export const shapeOf = (o: Partial<EmbeddingShape> & { headDim: number; heads: number }): EmbeddingShape => ({
  dModel: o.dModel ?? o.headDim * o.heads,
  heads: o.heads,
  headDim: o.headDim,
  layers: o.layers ?? 1,
  trainLength: o.trainLength ?? 128
})

/** A seeded standard-normal tensor. */
export const randomTensor = (shape: number[], seed: number, purpose = "test"): tf.Tensor => {
  const rng = SeededRandom.create(seed, purpose)
  const n = shape.reduce((a, b) => a * b, 1)
  return tf.tensor(
    rng.fill(n, (r) => r.normal()),
    shape
  )
}

export const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!)
