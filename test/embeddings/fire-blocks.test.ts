/**
 * FIRE computed in blocks of query rows (what makes 16x evaluation lengths fit in memory) equals FIRE computed at
 * once, values and gradients.
 */
import * as tf from "@tensorflow/tfjs"
import "@tensorflow/tfjs-backend-cpu"
import { beforeAll, describe, expect, it } from "vitest"
import { fireBias, fireBlockRows, firePositions, type FireLayer } from "../../embeddings/fire.js"
import { SeededRandom } from "../../embeddings/seeded-random.js"

beforeAll(async () => {
  await tf.setBackend("cpu")
  await tf.ready()
})

const layer = (H: number, width: number): FireLayer => {
  const rng = SeededRandom.create(3, "fire-blocks")
  const v = (shape: number[]) =>
    tf.variable(
      tf.tensor(
        rng.fill(
          shape.reduce((a, b) => a * b, 1),
          (r) => r.uniformIn(-1, 1)
        ),
        shape
      )
    )
  return {
    w1: v([1, width]),
    b1: v([width]),
    w2: v([width, H]),
    b2: v([H]),
    c: tf.variable(tf.scalar(0.1)),
    lMult: tf.variable(tf.scalar(1))
  }
}

describe("FIRE in row blocks", () => {
  it("block size follows the hidden-activation budget, and is the whole matrix at training lengths", () => {
    expect(fireBlockRows(256, 32)).toBe(256)
    expect(fireBlockRows(4096, 32)).toBe(128)
    expect(fireBlockRows(10, 4, 50)).toBe(1)
  })

  it("blocked and unblocked biases and gradients agree", () => {
    const T = 11
    const p = layer(3, 4)
    const pos = firePositions(T)
    const loss = (blockRows: number) => () => tf.sum(tf.square(fireBias(p, pos, T, 4, blockRows))) as tf.Scalar
    const whole = fireBias(p, pos, T, 4, T)
    const blocked = fireBias(p, pos, T, 4, 3)
    expect(blocked.shape).toEqual([3, T, T])
    expect(Array.from(blocked.dataSync())).toEqual(Array.from(whole.dataSync()))
    const g1 = tf.variableGrads(loss(T))
    const g2 = tf.variableGrads(loss(3))
    for (const name of Object.keys(g1.grads)) {
      const a = g1.grads[name]!.dataSync()
      const b = g2.grads[name]!.dataSync()
      for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 4)
    }
  })
})
