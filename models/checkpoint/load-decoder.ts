/**
 * Rebuilds a trained model from a checkpoint directory, for evaluation without retraining (`harness eval <dir>`,
 * suites that evaluate one trained model under several extension methods).
 * The position embedding is created again from its saved spec (name, resolved params, shape) through the registry;
 * its fixed tensors (FoPE's coefficients) are then compared bitwise with the saved ones. Convention: the embedding is
 * created with the same seed as the decoder (state.json: model.seed) unless `embeddingSeed` says otherwise.
 */
import type { EmbeddingShape } from "../../embeddings/interface.js"
import { createEmbedding } from "../../embeddings/registry.js"
import { Decoder } from "../decoder.js"
import { loadModelWeights, readCheckpointModel, type TrainingState } from "./checkpoint.js"

export interface LoadedDecoder {
  readonly model: Decoder
  /** sha256 of the checkpoint's manifest.json */
  readonly sha256: string
  readonly state: TrainingState
}

export const loadDecoder = (dir: string, options?: { embeddingSeed?: number }): LoadedDecoder => {
  const saved = readCheckpointModel(dir)
  const embedding = createEmbedding(
    { name: saved.embedding.name, params: saved.embedding.params },
    saved.embedding.shape as unknown as EmbeddingShape,
    options?.embeddingSeed ?? saved.seed
  )
  const model = Decoder.create(saved.config, embedding, saved.seed)
  try {
    const { sha256, state } = loadModelWeights(model, dir)
    return { model, sha256, state }
  } catch (e) {
    model.dispose()
    throw e
  }
}
