/**
 * Learned absolute position embedding (GPT-2 style `wpe`): a table [Lmax, dModel], init N(0, 0.02), whose first
 * T rows are added to the token embeddings. Beyond Lmax it has no value: asking for more fails (never clamps),
 * so that an evaluation past the table is reported as not applicable.
 */
import * as tf from "@tensorflow/tfjs"
import { Schema } from "effect"
import { EmbeddingError, type EmbeddingModule } from "./interface.js"
import { integerParam, numberParam } from "./params.js"
import { SeededRandom } from "./seeded-random.js"
import { staticEmbedding } from "./static-embedding.js"
import { variableFrom } from "./variables.js"

/** The learned absolute table's parameters. */
export const LearnedParams = Schema.Struct({
  tableLength: integerParam({ default: 0, min: 0, max: 1 << 20, doc: "rows Lmax of the table; 0 = the training length" }),
  initStd: numberParam({ default: 0.02, min: 0, max: 1, doc: "std of the N(0, std) init" })
})
export type LearnedParams = typeof LearnedParams.Type

export const learnedAbsolute: EmbeddingModule<typeof LearnedParams.fields> = {
  name: "learned",
  family: "input",
  description: "Learned absolute position table [Lmax, dModel] added to the token embeddings; undefined beyond Lmax",
  reference: "Gehring et al. 2017 (ConvS2S); Radford et al. 2019 (GPT-2 wpe), init N(0, 0.02)",
  params: LearnedParams,
  create: (params, shape, seed) => {
    const Lmax = params.tableLength === 0 ? shape.trainLength : params.tableLength
    const std = params.initStd
    const rng = SeededRandom.create(seed, "learned-absolute/table")
    const table = variableFrom(
      rng.fill(Lmax * shape.dModel, (r) => r.normal() * std),
      [Lmax, shape.dModel]
    ) // [Lmax, dModel]
    return staticEmbedding({
      name: "learned",
      family: "input",
      params,
      shape,
      maxLength: Lmax,
      input: (T) => {
        if (T > Lmax) {
          throw new EmbeddingError(
            `learned absolute embedding has ${Lmax} positions (its table), asked for ${T}: it has no value beyond ${Lmax}; ` +
              `evaluate at lengths <= ${Lmax} and report longer ones as not applicable, or train with tableLength >= ${T}`
          )
        }
        return tf.slice(table, [0, 0], [T, shape.dModel]) as tf.Tensor2D // [T, dModel]
      },
      variables: [["table", table]]
    })
  }
}
