/** NoPE (Kazemnejad et al. 2023, "The Impact of Positional Encoding on Length Generalization"): no position
 *  signal at all; the causal mask alone lets a decoder infer positions. */
import { Schema } from "effect"
import type { EmbeddingModule } from "./interface.js"
import { staticEmbedding } from "./static-embedding.js"

/** NoPE's parameters: none. */
export const NopeParams = Schema.Struct({})
export type NopeParams = typeof NopeParams.Type

export const nope: EmbeddingModule<typeof NopeParams.fields> = {
  name: "nope",
  family: "none",
  description: "No position embedding: the causal mask is the only position signal",
  reference: "Kazemnejad et al. 2023 (arXiv 2305.19466)",
  params: NopeParams,
  create: (params, shape) => staticEmbedding({ name: "nope", family: "none", params, shape })
}
