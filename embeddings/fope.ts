/**
 * FoPE, Fourier Position Embedding (Hua et al. 2024, arXiv 2412.17739), with the released code's defaults
 * (TsinghuaC3I/Fourier-Position-Embedding, `olmo/model.py`, `FourierEmbedding`); position-embeddings.md, "FoPE":
 *   1. frequencies: RoPE's grid `b^(-2k/F)`, F = fourierDim (default: the head dim);
 *   2. floor clip: frequencies `< 2*pi/L` are dropped (K kept); option `clip: false` keeps all;
 *   3. dOut = min(K, d/4); the other d/2 - dOut pairs get C = 1 and S = padSin (default 1: "zero frequency,
 *      not zero phase", such a pair contributes 2(q.k));
 *   4. per layer and head, `C[h] = Pc @ A_cos[h]`, `S[h] = Ps @ A_sin[h]` with A = noise + E (fope-coefficients.ts);
 *   5. coefficients fixed by default (`fixed`), option `learnable`;
 *   6. option `normalize`: the paper's pseudo-code divides A by its column sums over K.
 * Inference-time extension: FoPE + YaRN (clip at the new floor 2*pi/L', YaRN on the survivors, trained
 * coefficients with zero rows for the new survivors).
 */
import * as tf from "@tensorflow/tfjs"
import { Schema } from "effect"
import { EmbeddingError, type EmbeddingModule, type EmbeddingShape, type ExtensionSpec, type PositionEmbedding } from "./interface.js"
import { assertRotaryShape } from "./frequency-rotary.js"
import { fopeCoefficientValues, fopeNoiseStd, fopeOutputWidth, fopeStep } from "./fope-coefficients.js"
import { baseParam, booleanParam, choiceParam, integerParam, numberParam } from "./params.js"
import { checkExtension, extensionScale } from "./rotary-extensions.js"
import { floorClip, floorFrequency, ropeFrequencies, yarnFrequencies, yarnMscale, yarnRange } from "./rotary-frequencies.js"
import { rotaryEmbedding } from "./rotary-embedding.js"
import { phaseMatrices, type RotaryTables } from "./rotary-tables.js"
import { TableCache } from "./table-cache.js"
import { namedStats } from "./tensor-stats.js"

/** FoPE's parameters, with the released code's defaults. */
export const FopeParams = Schema.Struct({
  sigma: numberParam({
    default: 0.3,
    min: 0,
    max: 10,
    doc: "gain of the coefficient noise (xavier_normal_ gain; paper: 0.3 at 60M, 0.4 at 180M, 0.6 at 1.2B; 0 = without FS)"
  }),
  fourierDim: integerParam({
    default: 0,
    min: 0,
    max: 65536,
    doc: "size F of the frequency grid b^(-2k/F); 0 = the head dim; an even F > d makes the grid denser"
  }),
  clip: booleanParam({ default: true, doc: "floor clipping: drop frequencies < 2*pi/L (false = ablation without CF)" }),
  padSin: choiceParam({
    default: 1,
    choices: [1, 0],
    doc: "S value of the padded pairs: 1 (released code, zero frequency) or 0 (some inference engines)"
  }),
  learnable: booleanParam({ default: false, doc: "train the coefficients (default fixed: saved and hashed, no gradient)" }),
  normalize: booleanParam({ default: false, doc: "divide the coefficients by their column sums over K (the paper's pseudo-code)" }),
  base: baseParam()
})
export type FopeParams = typeof FopeParams.Type

/** The FoPE parameters a built embedding (or a checkpoint's record of one) holds, decoded: defaults filled in, ranges checked. */
export const fopeParamsOf = (params: Readonly<Record<string, unknown>>): FopeParams => Schema.decodeUnknownSync(FopeParams)(params)

/** The frequency plan of a FoPE model: grid, kept (K), clipped, dOut. */
export interface FopePlan {
  readonly fourierDim: number
  readonly grid: Float64Array
  readonly kept: ReadonlyArray<number>
  readonly clipped: ReadonlyArray<number>
  readonly K: number
  readonly dOut: number
}

export const fopePlan = (
  params: Pick<FopeParams, "fourierDim" | "base" | "clip">,
  shape: EmbeddingShape,
  length = shape.trainLength
): FopePlan => {
  const requested = params.fourierDim
  const fourierDim = requested === 0 ? shape.headDim : requested
  if (fourierDim % 2 !== 0 || fourierDim < shape.headDim) {
    throw new EmbeddingError(
      `fope: fourierDim must be 0 (= headDim) or an even number >= headDim ${shape.headDim}, got ${requested}: ` +
        `use 0 or an even value such as ${2 * shape.headDim}`
    )
  }
  const grid = ropeFrequencies(fourierDim, params.base)
  const { kept, clipped } = params.clip ? floorClip(grid, length) : { kept: Array.from(grid), clipped: [] }
  return { fourierDim, grid, kept, clipped, K: kept.length, dOut: fopeOutputWidth(kept.length, shape.headDim) }
}

/** The coefficients of one layer: [H, K, dOut] each (tensors or variables). */
interface LayerCoefficients {
  readonly cos: tf.Tensor3D
  readonly sin: tf.Tensor3D
}

/**
 * Tables of one layer: `C[h] = Pc @ A_cos[h]` [T, dOut] padded to d/2 with 1, repeated twice -> [H, T, d];
 * S likewise with the pad value `padSin`; both times `mscale` (YaRN's temperature, 1 otherwise).
 */
const fopeTables = (
  pc: tf.Tensor2D, // [T, K']
  ps: tf.Tensor2D, // [T, K']
  A: LayerCoefficients, // [H, K', dOut]
  shape: EmbeddingShape,
  padSin: number,
  normalize: boolean,
  mscale: number
): RotaryTables => {
  const { heads: H, headDim: d } = shape
  const T = pc.shape[0]
  const half = d / 2
  const dOut = A.cos.shape[2]
  const table = (phase: tf.Tensor2D, coef: tf.Tensor3D, pad: number): tf.Tensor3D => {
    if (dOut === 0) return tf.fill([H, T, d], pad * mscale) as tf.Tensor3D
    const K = coef.shape[1]
    // Paper's pseudo-code: divide by the column sums over K (option; the released code does not).
    const a = normalize ? tf.div(coef, tf.sum(coef, 1, true)) : coef // [H, K, dOut]
    const flat = tf.reshape(tf.transpose(a, [1, 0, 2]), [K, H * dOut]) // [K, H*dOut]
    const mixed = tf.transpose(tf.reshape(tf.matMul(phase, flat), [T, H, dOut]), [1, 0, 2]) // [H, T, dOut]
    const padded = dOut < half ? tf.concat([mixed, tf.fill([H, T, half - dOut], pad)], 2) : mixed // [H, T, d/2]
    const full = tf.concat([padded, padded], 2) as tf.Tensor3D // [H, T, d]
    return mscale === 1 ? full : (tf.mul(full, mscale) as tf.Tensor3D)
  }
  const cos = table(pc, A.cos, 1)
  const sin = table(ps, A.sin, padSin)
  return { q: { cos, sin }, k: { cos, sin } }
}

interface FopeState {
  readonly params: FopeParams
  readonly shape: EmbeddingShape
  readonly plan: FopePlan
  readonly coefficients: ReadonlyArray<LayerCoefficients>
  readonly trainable: ReadonlyArray<tf.Variable>
  readonly trainableNames: ReadonlyArray<string>
  readonly fixed: Readonly<Record<string, tf.Tensor>>
}

const createCoefficients = (params: FopeParams, shape: EmbeddingShape, seed: number, plan: FopePlan): FopeState => {
  const { heads: H, layers } = shape
  const { K, dOut } = plan
  const { sigma, learnable } = params
  const coefficients: LayerCoefficients[] = []
  const trainable: tf.Variable[] = []
  const trainableNames: string[] = []
  const fixed: Record<string, tf.Tensor> = {}
  for (let l = 0; l < layers; l++) {
    const make = (which: "cos" | "sin"): tf.Tensor3D => {
      const values = tf.tensor3d(fopeCoefficientValues(seed, l, which, H, K, dOut, sigma), [H, K, dOut])
      const name = `layer${l}/${which}Coef`
      if (!learnable) {
        fixed[name] = values
        return values
      }
      const v = tf.variable(values, true)
      values.dispose()
      trainable.push(v)
      trainableNames.push(name)
      return v as unknown as tf.Tensor3D
    }
    coefficients.push({ cos: make("cos"), sin: make("sin") })
  }
  return { params, shape, plan, coefficients, trainable, trainableNames, fixed }
}

const fopeEmbedding = (state: FopeState, extension: ExtensionSpec, evalLength: number, owner: boolean): PositionEmbedding => {
  const { params, shape, plan } = state
  checkExtension("fope", extension, evalLength)
  if (extension.method !== "none" && extension.method !== "yarn") {
    throw new EmbeddingError(
      `fope: extension "${extension.method}" is not defined for FoPE; use "yarn" (FoPE + YaRN, as in the FoPE code) or "none"`
    )
  }
  const s = extensionScale(shape.trainLength, evalLength)
  const { padSin, normalize, learnable } = params

  // FoPE + YaRN: clip the grid at the new floor 2*pi/L' (K' >= K survivors), apply YaRN to them.
  const yarn = extension.method === "yarn"
  const survivors = yarn && params.clip ? floorClip(plan.grid, Math.max(evalLength, shape.trainLength)).kept : plan.kept
  const w = yarn ? Array.from(yarnFrequencies(survivors, s, plan.fourierDim, params.base, shape.trainLength)) : [...survivors]
  const mscale = yarn && extension.temperature !== false ? yarnMscale(s) : 1
  const newRows = w.length - plan.K

  const phaseCache = new TableCache<{ pc: tf.Tensor2D; ps: tf.Tensor2D }>()
  const phases = (T: number, positions?: ReadonlyArray<number>) =>
    positions ? phaseMatrices(w, T, positions) : learnable ? phaseCache.get(`T${T}`, () => phaseMatrices(w, T)) : phaseMatrices(w, T)
  // Coefficients from the trained model, zero rows for the new survivors: [H, K', dOut].
  const layerCoefficients = (layer: number): LayerCoefficients => {
    const A = state.coefficients[layer]
    if (A === undefined) throw new EmbeddingError(`fope: layer ${layer} out of range; the embedding was built for ${shape.layers} layers`)
    if (newRows === 0) return A
    const zeros = tf.zeros([shape.heads, newRows, plan.dOut])
    return { cos: tf.concat([A.cos, zeros], 1) as tf.Tensor3D, sin: tf.concat([A.sin, zeros], 1) as tf.Tensor3D }
  }

  const embedding = rotaryEmbedding({
    name: "fope",
    params,
    shape,
    cacheKey: learnable ? null : (T, layer) => `${extension.method}/layer${layer}/T${T}`,
    tables: (T, layer, positions) => {
      const { pc, ps } = phases(T, positions)
      return fopeTables(pc, ps, layerCoefficients(layer), shape, padSin, normalize, mscale)
    },
    trainable: state.trainable,
    trainableNames: state.trainableNames,
    fixed: state.fixed,
    owner,
    describeSpectrum: () => {
      const stepOfTrained = fopeStep(plan.K, plan.dOut)
      const pairFrequencies = Array.from({ length: shape.headDim / 2 }, (_, i) => (i < plan.dOut ? (w[i * stepOfTrained] ?? 0) : 0))
      const named: Array<readonly [string, tf.Tensor]> = [
        ...Object.entries(state.fixed),
        ...state.trainable.map((v, i) => [state.trainableNames[i]!, v] as const)
      ]
      return {
        pairFrequencies,
        // output pairs mix every kept frequency (C = Pc @ A_cos, S = Ps @ A_sin); padded pairs are zero frequency
        pairBasis: pairFrequencies.map((_, i) => (i < plan.dOut ? [...w] : [0])),
        kept: w,
        clipped: plan.grid.length === w.length ? [] : Array.from(plan.grid).slice(w.length),
        coefficients: namedStats(named),
        notes: {
          K: plan.K,
          dOut: plan.dOut,
          step: stepOfTrained,
          noiseStd: fopeNoiseStd(params.sigma, shape.heads, plan.K, plan.dOut),
          floor: floorFrequency(shape.trainLength),
          fourierDim: plan.fourierDim,
          extension: extension.method,
          scale: s,
          mscale,
          newRows,
          ...(yarn ? yarnRange(plan.fourierDim, params.base, shape.trainLength) : {})
        }
      }
    },
    extend: (ext, length) => fopeEmbedding(state, ext, length, false)
  })
  return {
    ...embedding,
    dispose: () => {
      phaseCache.dispose()
      embedding.dispose()
    }
  }
}

export const fope: EmbeddingModule<typeof FopeParams.fields> = {
  name: "fope",
  family: "rotary",
  takesPositions: true,
  description: "Fourier Position Embedding: floor-clipped rotary frequencies mixed per head by fixed Fourier coefficients",
  reference: "Hua et al. 2024, FoPE (arXiv 2412.17739), section 4; released code olmo/model.py FourierEmbedding",
  params: FopeParams,
  create: (params, shape, seed) => {
    assertRotaryShape("fope", shape)
    const plan = fopePlan(params, shape)
    return fopeEmbedding(createCoefficients(params, shape, seed, plan), { method: "none" }, shape.trainLength, true)
  }
}
