/**
 * FIRE, Functional Interpolation for Relative Positions (Li et al. 2023, arXiv 2310.04418, eq. 3 and the
 * appendix's reference code): `bias_h(i, j) = MLP(psi(i-j) / psi(max(Lhat, i)))`, `psi(x) = log(|c*x| + 1)`,
 * `Lhat = |Lmult * L|`, MLP 1 -> 32 -> ReLU -> H; `c` learnable (init 0.1), `Lmult` learnable (init 1),
 * eps = 1e-6 added to the normaliser as in the reference code; one module per layer.
 * The MLP's init is PyTorch's nn.Linear default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
 */
import * as tf from "@tensorflow/tfjs"
import { Schema } from "effect"
import { EmbeddingError, type EmbeddingModule } from "./interface.js"
import { integerParam, numberParam } from "./params.js"
import { SeededRandom } from "./seeded-random.js"
import { staticEmbedding } from "./static-embedding.js"
import { TableCache } from "./table-cache.js"
import { variableFrom } from "./variables.js"

const FIRE_EPS = 1e-6

export interface FireLayer {
  readonly w1: tf.Variable // [1, width]
  readonly b1: tf.Variable // [width]
  readonly w2: tf.Variable // [width, H]
  readonly b2: tf.Variable // [H]
  readonly c: tf.Variable // scalar
  readonly lMult: tf.Variable // scalar
}

/** max(i-j, 0) [T, T] and the query positions i [T, 1], constants per length. */
export const firePositions = (T: number): { rel: tf.Tensor2D; query: tf.Tensor2D } => {
  const rel = new Float32Array(T * T)
  for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) rel[i * T + j] = i - j
  return { rel: tf.tensor2d(rel, [T, T]), query: tf.range(0, T, 1, "float32").reshape([T, 1]) as tf.Tensor2D }
}

/**
 * Hidden activations allowed per block of query rows. The MLP's hidden layer holds T*T*width floats: 2.1 GB at
 * T = 4096 (16x a training length of 256). Rows are processed in blocks so long evaluations fit; at training
 * lengths the whole matrix is one block, so training and its gradients are unchanged.
 */
export const FIRE_HIDDEN_BUDGET = 2 ** 24

export const fireBlockRows = (T: number, width: number, budget = FIRE_HIDDEN_BUDGET): number =>
  Math.max(1, Math.min(T, Math.floor(budget / (T * width))))

/** The bias [H, T, T] of one layer, computed `blockRows` query rows at a time. */
export const fireBias = (
  p: FireLayer,
  positions: { rel: tf.Tensor2D; query: tf.Tensor2D },
  T: number,
  L: number,
  blockRows: number
): tf.Tensor3D => {
  const H = p.b2.shape[0]!
  const psi = (x: tf.Tensor) => tf.log1p(tf.abs(tf.mul(p.c, x)))
  // Lhat broadcast to [T, 1] by a product: tfjs's Maximum gradient does not reduce broadcast inputs.
  const threshold = tf.mul(tf.abs(tf.mul(p.lMult, L)), tf.onesLike(positions.query)) // Lhat, [T, 1]
  const normaliser = tf.add(psi(tf.maximum(positions.query, threshold)), FIRE_EPS) // [T, 1]
  const rows = (r0: number, n: number): tf.Tensor3D => {
    const rel = n === T ? positions.rel : tf.slice(positions.rel, [r0, 0], [n, T]) // [n, T]
    const norm = n === T ? normaliser : tf.slice(normaliser, [r0, 0], [n, 1]) // [n, 1]
    const x = tf.reshape(tf.div(psi(rel), norm), [n * T, 1]) // [n*T, 1]
    const hidden = tf.relu(tf.add(tf.matMul(x, p.w1), p.b1)) // [n*T, width]
    const out = tf.add(tf.matMul(hidden, p.w2), p.b2) // [n*T, H]
    return tf.reshape(tf.transpose(out), [H, n, T]) as tf.Tensor3D // [H, n, T]
  }
  if (blockRows >= T) return rows(0, T)
  // tidy frees each block's hidden layer; under a gradient tape tfjs keeps what backprop needs (engine.keep)
  const blocks: tf.Tensor3D[] = []
  for (let r0 = 0; r0 < T; r0 += blockRows) blocks.push(tf.tidy(() => rows(r0, Math.min(blockRows, T - r0))))
  return tf.concat(blocks, 1) // [H, T, T]
}

/** FIRE's parameters. */
export const FireParams = Schema.Struct({
  width: integerParam({ default: 32, min: 1, max: 1024, doc: "hidden width of the MLP 1 -> width -> H" }),
  initC: numberParam({ default: 0.1, min: 0, max: 100, doc: "initial c of psi(x) = log(|c*x| + 1)" }),
  initLMult: numberParam({ default: 1, min: 0, max: 100, doc: "initial multiplier of the threshold Lhat = |Lmult * L|" })
})
export type FireParams = typeof FireParams.Type

export const fire: EmbeddingModule<typeof FireParams.fields> = {
  name: "fire",
  family: "bias",
  description: "Learned bias MLP(psi(i-j)/psi(max(Lhat, i))) with a progressive-interpolation normaliser",
  reference: "Li et al. 2023, FIRE (arXiv 2310.04418), eq. 3 and appendix code",
  params: FireParams,
  create: (params, shape, seed) => {
    const H = shape.heads
    const width = params.width
    const L = shape.trainLength
    const layers: FireLayer[] = []
    const variables: Array<readonly [string, tf.Variable]> = []
    for (let l = 0; l < shape.layers; l++) {
      const rng = SeededRandom.create(seed, `fire/layer${l}`)
      const uniform = (n: number, fanIn: number) => rng.fill(n, (r) => r.uniformIn(-1, 1) / Math.sqrt(fanIn))
      const layer: FireLayer = {
        w1: variableFrom(uniform(width, 1), [1, width]),
        b1: variableFrom(uniform(width, 1), [width]),
        w2: variableFrom(uniform(width * H, width), [width, H]),
        b2: variableFrom(uniform(H, width), [H]),
        c: variableFrom([params.initC], []),
        lMult: variableFrom([params.initLMult], [])
      }
      layers.push(layer)
      for (const [name, v] of Object.entries(layer)) variables.push([`layer${l}/${name}`, v as tf.Variable])
    }
    const positions = new TableCache<{ rel: tf.Tensor2D; query: tf.Tensor2D }>()
    return staticEmbedding({
      name: "fire",
      family: "bias",
      params,
      shape,
      scoreBias: (T, layer) => {
        const p = layers[layer]
        if (p === undefined)
          throw new EmbeddingError(`fire: layer ${layer} out of range; the embedding was built for ${shape.layers} layers`)
        return fireBias(
          p,
          positions.get(`T${T}`, () => firePositions(T)),
          T,
          L,
          fireBlockRows(T, width)
        )
      },
      variables,
      caches: [positions]
    })
  }
}
