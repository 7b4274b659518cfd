/**
 * The evaluations on the real Decoder (models/decoder.ts) with real position embeddings (embeddings/registry.ts):
 * untrained models, tiny shapes, cpu backend.
 */
import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import type { EmbeddingShape } from "../../../embeddings/interface.js"
import { createEmbedding } from "../../../embeddings/registry.js"
import { loadCorpus } from "../../../models/data/corpus.js"
import { Decoder, type DecoderConfig } from "../../../models/decoder.js"
import { lossCurve } from "../../../models/eval/loss-curve.js"
import { passkeyAccuracy } from "../../../models/eval/passkey-accuracy.js"
import { perplexityByLength } from "../../../models/eval/perplexity.js"
import { spectrumDamage } from "../../../models/eval/spectrum.js"
import { useCpu } from "./fake-models.js"

beforeAll(useCpu)

const config: DecoderConfig = { vocabSize: 256, dModel: 32, heads: 2, layers: 2, ffnHidden: 128, trainLength: 32 }
const shape: EmbeddingShape = { dModel: 32, heads: 2, headDim: 16, layers: 2, trainLength: 32 }
const decoder = (name: string, params: Record<string, unknown> = {}, seed = 1) =>
  Decoder.create(config, createEmbedding({ name, params }, shape, seed), seed)

describe("evaluations of an untrained Decoder on the byte corpus", () => {
  const valid = () => loadCorpus({ tokenizer: "bytes" }).valid

  it("perplexity is close to the vocabulary size (256), at and beyond the training length", async () => {
    const model = decoder("nope")
    await perplexityByLength(model, valid(), [32, 64], { maxWindows: 1 }) // the decoder caches a causal mask per length
    const before = tf.memory().numTensors
    const { rows } = await perplexityByLength(model, valid(), [32, 64], { maxWindows: 4 })
    for (const r of rows) {
      expect(r.applicable).toBe(true)
      if (r.applicable) {
        expect(r.perplexity).toBeGreaterThan(256 * 0.95)
        expect(r.perplexity).toBeLessThan(256 * 1.05)
        expect(r.tokens).toBe(4 * r.length)
      }
    }
    expect(tf.memory().numTensors).toBe(before)
    model.dispose()
  })

  it("gives identical numbers for the same seed (cpu backend)", async () => {
    const run = async () => {
      const model = decoder("rope", {}, 7)
      const { rows } = await perplexityByLength(model, valid(), [32], { maxWindows: 3 })
      const { curve } = await lossCurve(model, valid(), 32, 4, { maxWindows: 3 })
      model.dispose()
      return { rows, curve }
    }
    const a = await run()
    const b = await run()
    expect(b).toEqual(a)
  })

  it("reports learned absolute positions past their table as not applicable", async () => {
    const model = decoder("learned")
    const { rows } = await perplexityByLength(model, valid(), [32, 64], { maxWindows: 2 })
    expect(rows.map((r) => r.applicable)).toEqual([true, false])
    model.dispose()
  })

  it("evaluates a rotary model under an inference-time extension view per length", async () => {
    const model = decoder("rope")
    const options = { maxWindows: 2, embedding: (length: number) => model.embedding.extend({ method: "yarn" }, length) }
    await perplexityByLength(model, valid(), [64, 128], options) // warm the decoder's per-length mask cache
    const before = tf.memory().numTensors
    const { rows } = await perplexityByLength(model, valid(), [64, 128], options)
    expect(rows.every((r) => r.applicable && Number.isFinite(r.loss))).toBe(true)
    expect(tf.memory().numTensors).toBe(before)
    model.dispose()
  })

  it("measures spectrum damage for RoPE and FoPE, and not for ALiBi", async () => {
    for (const name of ["rope", "fope"]) {
      const model = decoder(name)
      const { result } = await spectrumDamage(model, valid(), 64, { windows: 4 })
      expect(result.applicable).toBe(true)
      if (result.applicable) {
        expect(result.layers).toHaveLength(2)
        expect(result.damage).toBeGreaterThanOrEqual(0)
        expect(result.damage).toBeLessThanOrEqual(1)
        expect(result.layers[0]!.pairs).toHaveLength(8)
      }
      model.dispose()
    }
    const alibi = decoder("alibi")
    expect((await spectrumDamage(alibi, valid(), 64)).result.applicable).toBe(false)
    alibi.dispose()
  })

  it("runs the passkey protocol end to end (an untrained model does not find the key)", async () => {
    const model = decoder("rope")
    const tokenizer = loadCorpus({ tokenizer: "bytes" }).tokenizer
    const { rows } = await passkeyAccuracy(model, tokenizer, [256], { trials: 2, seed: 1, decodeTokens: 3 })
    expect(rows[0]).toMatchObject({ applicable: true, trials: 2, accuracy: 0 })
    model.dispose()
  })
})
