import type { DecoderConfig } from "../../models/decoder.js"
import { trainSpec, type TrainSpec } from "../../models/train/spec.js"

export const tinyConfig: DecoderConfig = { vocabSize: 256, dModel: 32, heads: 2, layers: 2, ffnHidden: 128, trainLength: 16 }

export const tinySpec = (over: Partial<TrainSpec> = {}): TrainSpec =>
  trainSpec({ steps: 6, batchSize: 4, seqLength: 16, learningRate: 3e-3, warmupSteps: 2, ...over })

/** A tiny byte "corpus": a repeated sentence. */
export const repeatedText = (repeats = 40): Int32Array =>
  Int32Array.from(new TextEncoder().encode("the quick brown fox jumps over the lazy dog. ".repeat(repeats)))
