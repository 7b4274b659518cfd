/**
 * The chunked cross-entropy (models/train/chunked-loss.ts) and gradient accumulation over micro-batches equal the
 * plain loss, gradients and training step up to float rounding, on the cpu backend and on the tuned wasm engine.
 * Tolerances: the loss to 1e-6 relative and every gradient element to 2e-5 of the gradient's largest magnitude
 * (a different summation order, nothing else); a micro-batched step's loss to 1e-6 and gradient norm to 1e-5, its
 * parameters after two AdamW steps to 1e-4 of the largest (AdamW divides by sqrt(v): rounding in a tiny gradient moves
 * its update by up to the learning rate).
 */
import * as tf from "@tensorflow/tfjs"
import { afterAll, describe, expect, it } from "vitest"
import { Decoder } from "../../models/decoder.js"
import { initEngine } from "../../models/engine/index.js"
import { chunkedCrossEntropy } from "../../models/train/chunked-loss.js"
import { Trainer } from "../../models/train/trainer.js"
import { rope, shapeOf } from "./decoder-helpers.js"
import { repeatedText, tinyConfig, tinySpec } from "./train-helpers.js"

const maxAbs = (a: ArrayLike<number>): number => Array.from(a).reduce((m, x) => Math.max(m, Math.abs(x)), 0)

const expectClose = (got: tf.Tensor, want: tf.Tensor, relative: number): void => {
  const g = got.dataSync()
  const w = want.dataSync()
  expect(g.length).toBe(w.length)
  const scale = Math.max(maxAbs(w), 1e-12)
  let worst = 0
  for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i]! - w[i]!))
  expect(worst / scale).toBeLessThan(relative)
}

const tokensFor = (B: number, T1: number, seed: number): tf.Tensor2D =>
  tf.tensor2d(
    Int32Array.from({ length: B * T1 }, (_, i) => (i * 131 + seed * 17 + ((i * i) % 97)) % 256),
    [B, T1],
    "int32"
  )

describe.each(["cpu", "wasm"] as const)("chunked loss and micro-batches on %s", (backend) => {
  afterAll(async () => {
    await initEngine({ backend: "cpu" })
  })

  it("the chunked linear cross-entropy equals logits + log-softmax, value and gradients (uneven last chunk too)", async () => {
    await initEngine({ backend, threads: 1 })
    const N = 37
    const d = 16
    const V = 50
    const h = tf.randomNormal([N, d], 0, 1, "float32", 1) as tf.Tensor2D
    const w = tf.randomNormal([d, V], 0, 0.5, "float32", 2) as tf.Tensor2D
    const targets = tf.tensor1d(
      Int32Array.from({ length: N }, (_, i) => (i * 7) % V),
      "int32"
    )
    const plain = (hh: tf.Tensor, ww: tf.Tensor) =>
      tf.neg(
        tf.mean(
          tf.sum(tf.mul(tf.logSoftmax(tf.matMul(hh as tf.Tensor2D, ww as tf.Tensor2D), -1), tf.oneHot(targets, V).cast("float32")), -1)
        )
      ) as tf.Scalar
    const want = tf.valueAndGrads(plain)([h, w])
    for (const rows of [1, 8, 10, 37]) {
      const got = tf.valueAndGrads((hh: tf.Tensor, ww: tf.Tensor) =>
        chunkedCrossEntropy(hh as tf.Tensor2D, ww as tf.Tensor2D, targets, rows)
      )([h, w])
      expectClose(got.value, want.value, 1e-6)
      expectClose(got.grads[0]!, want.grads[0]!, 2e-5)
      expectClose(got.grads[1]!, want.grads[1]!, 2e-5)
    }
  })

  it("the decoder's loss with lossChunk equals the plain loss, and so do all its parameter gradients", async () => {
    await initEngine({ backend, threads: 1 })
    const model = Decoder.create(tinyConfig, rope(shapeOf(tinyConfig)), 3)
    const tokens = tokensFor(2, 17, 1)
    const variables = model.trainableVariables as tf.Variable[]
    const plain = tf.variableGrads(() => model.loss(tokens), variables)
    const chunked = tf.variableGrads(() => model.loss(tokens, { lossChunk: 5 }), variables)
    expectClose(chunked.value, plain.value, 1e-6)
    for (const v of variables) expectClose(chunked.grads[v.name]!, plain.grads[v.name]!, 2e-5)
    model.dispose()
  })

  it("a step over 2 micro-batches with a chunked loss matches the plain step", async () => {
    await initEngine({ backend, threads: 1 })
    const data = repeatedText()
    const run = (execution?: { microBatches: number; lossChunk: number }) => {
      const model = Decoder.create(tinyConfig, rope(shapeOf(tinyConfig)), 5)
      const trainer = Trainer.create(model, data, tinySpec({ steps: 2 }), 0, undefined, execution)
      const results = [trainer.next(), trainer.next()]
      const weights = model.trainableVariables.map((v) => tf.clone(v))
      trainer.dispose()
      model.dispose()
      return { results, weights }
    }
    const plain = run()
    const split = run({ microBatches: 2, lossChunk: 12 })
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(split.results[i]!.loss - plain.results[i]!.loss) / plain.results[i]!.loss).toBeLessThan(1e-6)
      expect(Math.abs(split.results[i]!.gradNorm - plain.results[i]!.gradNorm) / plain.results[i]!.gradNorm).toBeLessThan(1e-5)
    }
    plain.weights.forEach((w, i) => expectClose(split.weights[i]!, w, 1e-4))
  })

  it("nextAsync makes the same step as next, bit for bit", async () => {
    await initEngine({ backend, threads: 1 })
    const data = repeatedText()
    const losses = async (useAsync: boolean): Promise<number[]> => {
      const model = Decoder.create(tinyConfig, rope(shapeOf(tinyConfig)), 5)
      const trainer = Trainer.create(model, data, tinySpec({ steps: 3 }), 0)
      const out: number[] = []
      for (let i = 0; i < 3; i++) out.push(useAsync ? (await trainer.nextAsync()).loss : trainer.next().loss)
      trainer.dispose()
      model.dispose()
      return out
    }
    expect(await losses(true)).toEqual(await losses(false))
  })
})
