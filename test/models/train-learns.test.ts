/**
 * A micro-scale model learns a tiny repeated text. Runs on the plain (stock) wasm backend: the pure-JS cpu backend
 * needs over a minute for these 30 steps, wasm a few seconds. Also checks that every op of a training step exists
 * on wasm (no UnsortedSegmentSum: the decoder's embedding is a one-hot matmul).
 */
import * as tf from "@tensorflow/tfjs"
import "@tensorflow/tfjs-backend-wasm"
import { beforeAll, describe, expect, it } from "vitest"
import { Decoder } from "../../models/decoder.js"
import { resolveScale } from "../../models/scales.js"
import { Trainer } from "../../models/train/trainer.js"
import { rope, shapeOf } from "./decoder-helpers.js"
import { repeatedText, tinySpec } from "./train-helpers.js"

describe("training on wasm", () => {
  beforeAll(async () => {
    await tf.setBackend("wasm")
    await tf.ready()
  })

  it("a micro model learns a tiny repeated text (loss drops by a lot in 30 steps)", () => {
    expect(tf.getBackend()).toBe("wasm")
    const s = resolveScale("micro")
    const config = { vocabSize: 256, dModel: s.dModel, heads: s.heads, layers: s.layers, ffnHidden: s.ffnHidden, trainLength: 32 }
    const model = Decoder.create(config, rope(shapeOf(config)), 5)
    const trainer = Trainer.create(
      model,
      repeatedText(),
      tinySpec({ steps: 30, batchSize: 2, seqLength: 32, learningRate: 3e-3, warmupSteps: 5 }),
      5
    )
    const losses: number[] = []
    while (!trainer.done) losses.push(trainer.next().loss)
    const first = losses[0]!
    const last = losses.slice(-3).reduce((a, b) => a + b, 0) / 3
    expect(first).toBeGreaterThan(5) // ~ ln 256 = 5.55
    expect(last).toBeLessThan(first / 3)
    console.log(`micro on wasm: loss ${first.toFixed(3)} -> ${last.toFixed(3)} (mean of the last 3 of 30 steps)`)
    trainer.dispose()
    model.dispose()
  })
})
