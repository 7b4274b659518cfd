import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import type { SeededRandom } from "../../embeddings/seeded-random.js"
import { Decoder } from "../../models/decoder.js"
import { AdamW } from "../../models/train/adamw.js"
import { BatchSampler } from "../../models/train/batch-sampler.js"
import { NonFiniteLossError } from "../../models/train/errors.js"
import { learningRateAt } from "../../models/train/schedule.js"
import { Trainer } from "../../models/train/trainer.js"
import { nope, rope, shapeOf, useCpu } from "./decoder-helpers.js"
import { repeatedText, tinyConfig, tinySpec } from "./train-helpers.js"

const weightsOf = (model: Decoder): number[][] => model.namedTrainable.map(([, v]) => Array.from(v.dataSync()))

describe("training", () => {
  beforeAll(useCpu)

  it("schedule: linear warmup, cosine to 0.1x at the last step", () => {
    const spec = { steps: 100, learningRate: 1e-3, warmupSteps: 10, minLrRatio: 0.1 }
    expect(learningRateAt(spec, 1)).toBeCloseTo(1e-4, 12)
    expect(learningRateAt(spec, 10)).toBeCloseTo(1e-3, 12)
    expect(learningRateAt(spec, 55)).toBeCloseTo(1e-3 * (0.1 + 0.9 * 0.5), 12) // half way: cos = 0
    expect(learningRateAt(spec, 100)).toBeCloseTo(1e-4, 12)
    for (let s = 11; s < 100; s++) expect(learningRateAt(spec, s + 1)).toBeLessThan(learningRateAt(spec, s))
  })

  it("AdamW: first update is lr * sign(g) plus decoupled decay on matrices only", () => {
    const w = tf.variable(
      tf.tensor2d([
        [1, -2],
        [3, 4]
      ])
    )
    const g = tf.variable(tf.tensor1d([1, 1]))
    const opt = new AdamW(
      [
        { name: "w", variable: w, decay: true },
        { name: "g", variable: g, decay: false }
      ],
      { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 }
    )
    opt.apply(
      [
        tf.tensor2d([
          [0.5, -0.5],
          [2, -3]
        ]),
        tf.tensor1d([1, -1])
      ],
      0.01,
      1
    )
    // m_hat = g, v_hat = g^2 after one step: update = lr * g/|g|; decay p * (1 - lr*wd)
    const expectedW = [1 * 0.999 - 0.01, -2 * 0.999 + 0.01, 3 * 0.999 - 0.01, 4 * 0.999 + 0.01]
    Array.from(w.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(expectedW[i]!, 6))
    Array.from(g.dataSync()).forEach((x, i) => expect(x).toBeCloseTo([0.99, 1.01][i]!, 6))
    expect(opt.step).toBe(1)
    opt.dispose()
    tf.dispose([w, g])
  })

  it("the batch sampler is seeded and its state restores; the mixer replaces rows", () => {
    const data = repeatedText(10)
    const a = new BatchSampler(data, 4, 8, 1)
    const b = new BatchSampler(data, 4, 8, 1)
    a.next()
    const saved = a.state()
    const next = a.next()
    b.restore(saved)
    expect(Array.from(b.next())).toEqual(Array.from(next))
    expect(b.state().cursor).toBe(2)
    const mixer = { fraction: 1, make: (rng: SeededRandom, length: number) => Int32Array.from({ length }, () => 255 - rng.int(3)) }
    const mixed = new BatchSampler(data, 4, 8, 1, mixer).next()
    expect(Array.from(mixed).every((t) => t >= 253)).toBe(true)
    const half = new BatchSampler(data, 64, 8, 2, { ...mixer, fraction: 0.5 })
    half.next()
    expect(half.state().mixedRows).toBeGreaterThan(16)
    expect(half.state().mixedRows).toBeLessThan(48)
  })

  it("keeps the tensor count constant across steps", () => {
    const model = Decoder.create(tinyConfig, rope(shapeOf(tinyConfig)), 1)
    const trainer = Trainer.create(model, repeatedText(), tinySpec({ checkpointEvery: 2 }), 1)
    trainer.next() // first step creates the cached causal mask
    expect(trainer.checkpointDue).toBe(false)
    const before = tf.memory().numTensors
    const due: boolean[] = []
    for (let i = 0; i < 3; i++) {
      trainer.next()
      due.push(trainer.checkpointDue)
    }
    expect(tf.memory().numTensors).toBe(before)
    expect(due).toEqual([true, false, true])
    trainer.dispose()
    model.dispose()
  })

  it("the same seed twice gives bitwise identical losses and weights (cpu backend)", () => {
    const run = (): { losses: number[]; weights: number[][] } => {
      const model = Decoder.create(tinyConfig, rope(shapeOf(tinyConfig)), 7)
      const trainer = Trainer.create(model, repeatedText(), tinySpec({ steps: 4 }), 3)
      const losses: number[] = []
      while (!trainer.done) losses.push(trainer.next().loss)
      const weights = weightsOf(model)
      trainer.dispose()
      model.dispose()
      return { losses, weights }
    }
    const a = run()
    const b = run()
    expect(a.losses).toHaveLength(4)
    expect(b.losses).toEqual(a.losses) // toEqual on numbers is exact (Object.is per element)
    expect(b.weights).toEqual(a.weights)
  })

  it("a NaN/Inf loss throws NonFiniteLossError with its step and leaves the model untouched", () => {
    const model = Decoder.create(tinyConfig, nope(shapeOf(tinyConfig)), 2)
    // lr 1e30 with no warmup: the first update blows the weights up, a later loss overflows
    const trainer = Trainer.create(model, repeatedText(), tinySpec({ steps: 10, learningRate: 1e30, warmupSteps: 0, gradClip: 1e30 }), 2)
    let error: unknown
    let weightsBefore: number[][] = []
    for (let i = 0; i < 10 && error === undefined; i++) {
      weightsBefore = weightsOf(model)
      try {
        trainer.next()
      } catch (e) {
        error = e
      }
    }
    expect(error).toBeInstanceOf(NonFiniteLossError)
    const e = error as NonFiniteLossError
    expect(e.step).toBe(trainer.step + 1)
    expect(e.step).toBeGreaterThan(1)
    expect(e.message).toMatch(/lower learning rate/)
    expect(weightsOf(model)).toEqual(weightsBefore)
    trainer.dispose()
    model.dispose()
  })
})
