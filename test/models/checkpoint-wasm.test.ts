/**
 * Resume == uninterrupted on the engine the harness trains with (tuned wasm, 2 threads): the loss sequence after a
 * checkpoint and resume is bitwise the uninterrupted one, and a second run with the same seeds repeats it bitwise.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createEmbedding } from "../../embeddings/registry.js"
import { Decoder } from "../../models/decoder.js"
import { initEngine } from "../../models/engine/index.js"
import { Trainer } from "../../models/train/trainer.js"
import { shapeOf } from "./decoder-helpers.js"
import { repeatedText, tinyConfig, tinySpec } from "./train-helpers.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fope-checkpoint-wasm-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe("resume on the tuned wasm engine", () => {
  beforeAll(async () => {
    const info = await initEngine({ backend: "wasm", tuned: true, threads: 2 })
    expect(info.backend).toBe("wasm")
  })

  it("gives the uninterrupted loss sequence bitwise, and the same seed repeats it bitwise", () => {
    const make = (seed: number): Decoder => Decoder.create(tinyConfig, createEmbedding({ name: "fope" }, shapeOf(tinyConfig), 3), seed)
    const data = repeatedText()
    const spec = tinySpec({ steps: 6 })
    const uninterrupted = (): number[] => {
      const model = make(3)
      const trainer = Trainer.create(model, data, spec, 8)
      const losses: number[] = []
      while (!trainer.done) losses.push(trainer.next().loss)
      trainer.dispose()
      model.dispose()
      return losses
    }
    const full = uninterrupted()
    expect(uninterrupted()).toEqual(full)

    const m1 = make(3)
    const t1 = Trainer.create(m1, data, spec, 8)
    for (let i = 0; i < 2; i++) t1.next()
    t1.checkpoint(path.join(tmp, "mid"))
    t1.dispose()
    m1.dispose()
    const m2 = make(4)
    const t2 = Trainer.resume(path.join(tmp, "mid"), m2, data)
    const rest: number[] = []
    while (!t2.done) rest.push(t2.next().loss)
    expect(rest).toEqual(full.slice(2))
    t2.dispose()
    m2.dispose()
  })
})
