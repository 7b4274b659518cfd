/**
 * The decoder, trainer and checkpoints with every registered position embedding (embeddings/registry.ts):
 * one hook path each (input, queryKey, scoreBias, none), trainable and fixed tensors in checkpoints.
 */
import * as tf from "@tensorflow/tfjs"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createEmbedding, listEmbeddings } from "../../embeddings/registry.js"
import { loadModelWeights } from "../../models/checkpoint/checkpoint.js"
import { decodeSafetensors } from "../../models/checkpoint/safetensors.js"
import { Decoder, type DecoderConfig } from "../../models/decoder.js"
import { Trainer } from "../../models/train/trainer.js"
import { shapeOf, useCpu } from "./decoder-helpers.js"
import { repeatedText, tinySpec } from "./train-helpers.js"

const config: DecoderConfig = { vocabSize: 256, dModel: 32, heads: 2, layers: 2, ffnHidden: 64, trainLength: 64 }
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fope-registry-test-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe("decoder with every registered embedding", () => {
  beforeAll(useCpu)
  const names = listEmbeddings().map((m) => m.name)

  it("the registry lists the methods the decoder must run", () => {
    expect(names).toEqual(expect.arrayContaining(["nope", "rope", "fope", "alibi"]))
  })

  it.each(names)("%s: trains, keeps the tensor count, checkpoints and reloads bitwise", (name) => {
    const make = (seed: number): Decoder => Decoder.create(config, createEmbedding({ name }, shapeOf(config), seed), seed)
    const model = make(1)
    const data = repeatedText()
    const trainer = Trainer.create(model, data, tinySpec({ steps: 3, batchSize: 2, seqLength: 16 }), 1)
    const first = trainer.next()
    expect(Number.isFinite(first.loss)).toBe(true)
    expect(Math.abs(first.loss - Math.log(256))).toBeLessThan(0.5)
    const count = tf.memory().numTensors
    trainer.next()
    expect(tf.memory().numTensors).toBe(count)
    const dir = path.join(tmp, name)
    trainer.checkpoint(dir)
    const saved = decodeSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, "model.safetensors"))))
    expect(saved.tensors.every((t) => !t.name.includes("/"))).toBe(true)
    const fixedCount = Object.keys(model.embedding.fixed).length
    expect(saved.tensors.filter((t) => t.name.startsWith("pos.")).length).toBe(fixedCount + model.embedding.trainable.length)
    // reload into a model built the same way (same embedding seed: fixed tensors must match bitwise)
    const fresh = make(1)
    loadModelWeights(fresh, dir)
    const tokens = tf.tensor2d(data.subarray(0, 33), [1, 33], "int32")
    const a = model.tokenLosses(tokens)
    const b = fresh.tokenLosses(tokens)
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()))
    tf.dispose([tokens, a, b])
    trainer.dispose()
    model.dispose()
    fresh.dispose()
  })
})

describe("loadDecoder", () => {
  beforeAll(useCpu)
  it("rebuilds a FoPE model from its checkpoint alone (same losses)", async () => {
    const { loadDecoder } = await import("../../models/checkpoint/load-decoder.js")
    const model = Decoder.create(config, createEmbedding({ name: "fope", params: { sigma: 0.3 } }, shapeOf(config), 4), 4)
    const data = repeatedText()
    const trainer = Trainer.create(model, data, tinySpec({ steps: 2, batchSize: 2, seqLength: 16 }), 4)
    trainer.next()
    const dir = path.join(tmp, "load-decoder")
    const saved = trainer.checkpoint(dir)
    const loaded = loadDecoder(dir)
    expect(loaded.sha256).toBe(saved.sha256)
    expect(loaded.state.step).toBe(1)
    expect(loaded.model.embedding.params).toEqual(model.embedding.params)
    const tokens = tf.tensor2d(data.subarray(0, 33), [1, 33], "int32")
    const a = model.tokenLosses(tokens)
    const b = loaded.model.tokenLosses(tokens)
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()))
    // another embedding seed gives other FoPE coefficients: refused with the reason
    expect(() => loadDecoder(dir, { embeddingSeed: 5 })).toThrow(/fixed tensor "pos\.fope\..*" differs/)
    tf.dispose([tokens, a, b])
    trainer.dispose()
    model.dispose()
    loaded.model.dispose()
  })
})

describe("query-chunked attention", () => {
  beforeAll(useCpu)
  it.each(["rope", "alibi", "fope", "t5"])("%s: chunked == unchunked logits, and gradients flow through chunks", (name) => {
    const model = Decoder.create(config, createEmbedding({ name }, shapeOf(config), 2), 2)
    const ids = repeatedText().subarray(0, 2 * 41)
    const tokens = tf.tensor2d(ids, [2, 41], "int32")
    const full = model.tokenLosses(tokens, { queryChunk: 40 })
    for (const chunk of [7, 16]) {
      const chunked = model.tokenLosses(tokens, { queryChunk: chunk })
      expect(tf.max(tf.abs(chunked.sub(full))).dataSync()[0]).toBeLessThan(1e-5)
      tf.dispose(chunked)
    }
    const { value, grads } = tf.variableGrads(() => model.loss(tokens, { queryChunk: 7 }), model.trainableVariables as tf.Variable[])
    expect(Number.isFinite(value.dataSync()[0]!)).toBe(true)
    expect(Object.keys(grads).length).toBeGreaterThanOrEqual(model.namedParameters.length)
    tf.dispose([tokens, full, value, ...Object.values(grads)])
    model.dispose()
  })
})
