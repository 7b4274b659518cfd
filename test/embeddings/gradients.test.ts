/**
 * Gradients reach every trainable parameter (finite, not all zero) and, by default, none of FoPE's fixed
 * coefficients. The loss is built from the hooks directly: a random weighting of their outputs.
 */
import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import type { PositionEmbedding } from "../../embeddings/interface.js"
import { createEmbedding, listEmbeddings } from "../../embeddings/registry.js"
import { randomTensor, shapeOf, useCpu } from "./helpers.js"

beforeAll(useCpu)

const shape = shapeOf({ headDim: 16, heads: 2, layers: 2, trainLength: 32 })
const T = 12

/** sum of every hook output at every layer, weighted by fixed random tensors */
const hookLoss = (e: PositionEmbedding, q: tf.Tensor4D, k: tf.Tensor4D): tf.Scalar => {
  const terms: tf.Scalar[] = []
  for (let layer = 0; layer < shape.layers; layer++) {
    if (e.queryKey) {
      const [qq, kk] = e.queryKey(q, k, layer)
      terms.push(tf.sum(tf.matMul(qq, kk, false, true).mul(randomTensor([1, shape.heads, T, T], layer, "wqk"))))
    }
    if (e.scoreBias) {
      // only j <= i is used by the decoder: weight the lower triangle
      const lower = tf.linalg.bandPart(randomTensor([shape.heads, T, T], layer, "wb"), -1, 0)
      terms.push(tf.sum(tf.mul(e.scoreBias(T, layer), lower)))
    }
    if (e.inputBias) {
      // the input-dependent bias of a block of rows, from a fixed input h [1, T, dModel]
      const block = e.inputBias(randomTensor([1, T, shape.dModel], layer, "h") as tf.Tensor3D, layer)(2, T)
      const lower = tf.linalg.bandPart(randomTensor([shape.heads, T, T], layer, "wib"), -1, 0).slice([0, 2, 0], [shape.heads, T - 2, T])
      terms.push(tf.sum(tf.mul(block, lower)))
    }
  }
  if (e.input) terms.push(tf.sum(tf.mul(e.input(T), randomTensor([T, shape.dModel], 3, "wi"))))
  return terms.length === 0 ? tf.scalar(0) : (tf.addN(terms) as tf.Scalar)
}

const cases: Array<[string, Record<string, unknown>]> = [
  ...listEmbeddings().map((m) => [m.name, {}] as [string, Record<string, unknown>]),
  ["fope", { learnable: true }],
  ["fope", { learnable: true, normalize: true }]
]

describe("gradients", () => {
  it.each(cases)("%s %j: every trainable parameter gets a finite, non-zero gradient", (name, params) => {
    const e = createEmbedding({ name, params }, shape, 3)
    const q = randomTensor([1, shape.heads, T, shape.headDim], 1, "q") as tf.Tensor4D
    const k = randomTensor([1, shape.heads, T, shape.headDim], 2, "k") as tf.Tensor4D
    const expectedTrainable = ["learned", "kerple-log", "kerple-power", "fire", "t5", "fox"].includes(name) || params["learnable"] === true
    expect(e.trainable.length > 0).toBe(expectedTrainable)
    expect(e.trainableNames).toHaveLength(e.trainable.length)
    if (e.trainable.length > 0) {
      const { value, grads } = tf.variableGrads(() => hookLoss(e, q, k), [...e.trainable])
      expect(Number.isFinite(value.dataSync()[0]!)).toBe(true)
      e.trainable.forEach((v, i) => {
        const g = grads[v.name]!
        const values = Array.from(g.dataSync())
        expect(values.every(Number.isFinite), `${e.trainableNames![i]} finite`).toBe(true)
        expect(
          values.some((x) => x !== 0),
          `${e.trainableNames![i]} non-zero`
        ).toBe(true)
      })
      tf.dispose([value, ...Object.values(grads)])
    }
    tf.dispose([q, k])
    e.dispose()
  })

  it("FoPE by default: gradients reach q and k but none of the fixed coefficients", () => {
    const e = createEmbedding({ name: "fope", params: {} }, shape, 3)
    const q = tf.variable(randomTensor([1, shape.heads, T, shape.headDim], 1, "q"), true)
    const k = randomTensor([1, shape.heads, T, shape.headDim], 2, "k") as tf.Tensor4D
    // no variable list: tfjs differentiates w.r.t. every trainable variable that exists
    const { grads } = tf.variableGrads(() => hookLoss(e, q as unknown as tf.Tensor4D, k))
    expect(Object.keys(grads)).toContain(q.name)
    const fixedIds = new Set(Object.values(e.fixed).map((t) => t.id))
    expect(fixedIds.size).toBe(4)
    for (const name of Object.keys(grads)) {
      const g = grads[name]!
      expect(fixedIds.has(g.id)).toBe(false)
    }
    for (const t of Object.values(e.fixed)) expect(t instanceof tf.Variable).toBe(false)
    expect(Array.from(grads[q.name]!.dataSync()).some((x) => x !== 0)).toBe(true)
    tf.dispose([q, k, ...Object.values(grads)])
    e.dispose()
  })
})
