/** From a resolved job to a live model: the job's position embedding plugged into a decoder. */
import { createEmbedding } from "../../embeddings/registry.js"
import { Decoder } from "../../models/decoder.js"
import type { JobConfig } from "../plan/job.js"

export const buildModel = (config: JobConfig): Decoder => {
  const m = config.model
  const embedding = createEmbedding(
    { name: config.embedding.name, params: config.embedding.params },
    { dModel: m.dModel, heads: m.heads, headDim: m.dModel / m.heads, layers: m.layers, trainLength: m.trainLength },
    config.seed
  )
  return Decoder.create(
    { vocabSize: m.vocabSize, dModel: m.dModel, heads: m.heads, layers: m.layers, ffnHidden: m.ffnHidden, trainLength: m.trainLength },
    embedding,
    config.seed
  )
}
