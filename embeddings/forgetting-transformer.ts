/**
 * Forgetting Transformer, FoX (Lin et al. 2025, "Forgetting Transformer: Softmax Attention with a Forget Gate",
 * ICLR 2025, arXiv 2503.02130, "Forgetting Attention"; the authors' `forgetting-transformer` code, the "FoX (LLaMA)" variant): each head h of each
 * layer has a scalar forget gate per token, computed from the layer's attention input x_t (after its norm),
 *
 *   f_t = sigmoid(w_h . x_t + b_h),        logit(i, j) += sum_{l = j+1 .. i} log f_l = c_i - c_j,
 *
 * with c_t = sum_{l <= t} log f_l (a cumulative sum in log space, as the reference computes it). A key's weight
 * decays by the product of the gates since it was written: a data-dependent ALiBi. The gate is a linear layer
 * d -> H with a bias, PyTorch's nn.Linear default init U(-1/sqrt(d), 1/sqrt(d)) for both (the reference's
 * `fgate_proj` without a custom bias init). The paper uses FoX without any other position embedding (the default
 * here); `rope: true` adds RoPE's rotation of q and k, the combination the paper also trains.
 *
 * Bias of a block of query rows [start, end): c[start:end, None] - c[None, :end], [B, H, rows, end]; only c
 * ([B, H, T]) is held per layer, so evaluation memory follows the decoder's row blocks, never [T, T].
 */
import * as tf from "@tensorflow/tfjs"
import { Schema } from "effect"
import { EmbeddingError, type EmbeddingModule } from "./interface.js"
import { createFrequencyRotary } from "./frequency-rotary.js"
import { baseParam, booleanParam } from "./params.js"
import { ropeFrequencies } from "./rotary-frequencies.js"
import { SeededRandom } from "./seeded-random.js"
import { logSigmoid } from "./log-sigmoid.js"
import { staticEmbedding } from "./static-embedding.js"
import { variableFrom } from "./variables.js"

export interface ForgetGate {
  readonly w: tf.Variable // [d, H]
  readonly b: tf.Variable // [H]
}

/** c = cumsum_t log sigmoid(x_t W + b): h [B, T, d] -> [B, H, T]. */
export const cumulativeLogForget = (h: tf.Tensor3D, gate: ForgetGate): tf.Tensor3D =>
  tf.tidy(() => {
    const [B, T, d] = h.shape
    const H = gate.b.shape[0]!
    const logits = tf.add(tf.matMul(tf.reshape(h, [B * T, d]), gate.w), gate.b) // [B*T, H]
    const logF = logSigmoid(logits) // [B*T, H], log f in (-inf, 0)
    const perHead = tf.transpose(tf.reshape(logF, [B, T, H]), [0, 2, 1]) // [B, H, T]
    return tf.cumsum(perHead, 2) as tf.Tensor3D // [B, H, T]
  })

/** The FoX bias of query rows [start, end) against keys 0..end-1 from c [B, H, T]: [B, H, rows, end]. */
export const forgetBiasBlock = (c: tf.Tensor3D, start: number, end: number): tf.Tensor4D =>
  tf.tidy(() => {
    const [B, H] = c.shape
    const rows = tf.expandDims(tf.slice(c, [0, 0, start], [B, H, end - start]), 3) // [B, H, rows, 1]
    const keys = tf.expandDims(tf.slice(c, [0, 0, 0], [B, H, end]), 2) // [B, H, 1, end]
    return tf.sub(rows, keys) as tf.Tensor4D // [B, H, rows, end]
  })

/** The Forgetting Transformer's parameters. */
export const FoxParams = Schema.Struct({
  rope: booleanParam({ default: false, doc: "also rotate q and k with RoPE (the paper's FoX uses no other position embedding)" }),
  base: baseParam()
})
export type FoxParams = typeof FoxParams.Type

export const forgettingTransformer: EmbeddingModule<typeof FoxParams.fields> = {
  name: "fox",
  family: "attention",
  description: "Forgetting Transformer: per-head forget gate f_t = sigmoid(w.x_t + b), logit(i,j) += sum_{j<l<=i} log f_l",
  reference: "Lin et al. 2025, Forgetting Transformer (ICLR 2025, arXiv 2503.02130), Forgetting Attention; authors' code, FoX (LLaMA)",
  params: FoxParams,
  create: (params, shape, seed) => {
    const { dModel: d, heads: H } = shape
    const gates: ForgetGate[] = []
    const variables: Array<readonly [string, tf.Variable]> = []
    for (let l = 0; l < shape.layers; l++) {
      const rng = SeededRandom.create(seed, `fox/layer${l}`)
      const bound = 1 / Math.sqrt(d)
      const gate: ForgetGate = {
        w: variableFrom(
          rng.fill(d * H, (r) => r.uniformIn(-bound, bound)),
          [d, H]
        ),
        b: variableFrom(
          rng.fill(H, (r) => r.uniformIn(-bound, bound)),
          [H]
        )
      }
      gates.push(gate)
      variables.push([`layer${l}/fgate.w`, gate.w], [`layer${l}/fgate.b`, gate.b])
    }
    const rotary = params.rope
      ? createFrequencyRotary({ name: "fox", params, shape, base: params.base, grid: (b) => ropeFrequencies(shape.headDim, b) })
      : undefined
    return staticEmbedding({
      name: "fox",
      family: "attention",
      params,
      shape,
      ...(rotary?.queryKey ? { queryKey: rotary.queryKey } : {}),
      inputBias: (h, layer) => {
        const gate = gates[layer]
        if (gate === undefined)
          throw new EmbeddingError(`fox: layer ${layer} out of range; the embedding was built for ${shape.layers} layers`)
        const c = cumulativeLogForget(h, gate) // [B, H, T]
        return (start, end) => forgetBiasBlock(c, start, end)
      },
      variables,
      caches: rotary ? [rotary] : [],
      notes: { rope: params.rope, gate: "sigmoid(w.x + b) per head, from the attention input" }
    })
  }
}
