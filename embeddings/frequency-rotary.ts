/**
 * Rotary methods defined by a frequency grid (RoPE, p-RoPE, xPos): tables are `cos(t*w)`, `sin(t*w)`
 * (times xPos's scale and YaRN's temperature), shared by every layer and cached per length.
 * The inference-time extensions rescale the grid (rotary-extensions.ts).
 */
import { EmbeddingError, type EmbeddingShape, type ExtensionSpec, type PositionEmbedding } from "./interface.js"
import { checkExtension, extendedFrequencies, extensionScale, llama3Settings } from "./rotary-extensions.js"
import { yarnRange } from "./rotary-frequencies.js"
import { rotaryEmbedding } from "./rotary-embedding.js"
import { rotaryTable } from "./rotary-tables.js"

export interface FrequencyRotarySpec {
  readonly name: string
  readonly params: Readonly<Record<string, unknown>>
  readonly shape: EmbeddingShape
  readonly base: number
  /** d/2 pair frequencies at a base; zeros for dropped pairs (p-RoPE) */
  readonly grid: (base: number) => Float64Array
  /** frequencies the method drops (p-RoPE), for describeSpectrum */
  readonly dropped?: ReadonlyArray<number>
  /** per-position multipliers of q's and k's tables at length T (xPos's scale); pair index k */
  readonly multipliers?: (T: number) => { readonly q: (t: number, k: number) => number; readonly k: (t: number, k: number) => number }
}

export const assertRotaryShape = (name: string, shape: EmbeddingShape): void => {
  if (!Number.isInteger(shape.headDim) || shape.headDim < 2 || shape.headDim % 2 !== 0) {
    throw new EmbeddingError(
      `${name} rotates pairs of channels and needs an even headDim >= 2, got ${shape.headDim}: choose an even head width`
    )
  }
}

export const createFrequencyRotary = (
  spec: FrequencyRotarySpec,
  extension: ExtensionSpec = { method: "none" },
  evalLength: number = spec.shape.trainLength,
  owner = true
): PositionEmbedding => {
  assertRotaryShape(spec.name, spec.shape)
  checkExtension(spec.name, extension, evalLength)
  const dim = spec.shape.headDim
  const frequenciesAt = extendedFrequencies(extension, {
    grid: spec.grid,
    base: spec.base,
    dim,
    trainLength: spec.shape.trainLength,
    evalLength
  })

  return rotaryEmbedding({
    name: spec.name,
    params: spec.params,
    shape: spec.shape,
    // Tables do not depend on the layer: one entry per length (and per dynamic-NTK base).
    cacheKey: (T) => `${frequenciesAt(T).key}/T${T}`,
    tables: (T, _layer, positions) => {
      const { w, mscale } = frequenciesAt(T)
      const m = spec.multipliers?.(T)
      const q = rotaryTable(w, T, m ? (t, k) => mscale * m.q(t, k) : mscale === 1 ? undefined : () => mscale, positions) // [T, hd]
      const k = m ? rotaryTable(w, T, (t, kk) => mscale * m.k(t, kk), positions) : q // [T, hd]
      return { q, k }
    },
    trainable: [],
    trainableNames: [],
    fixed: {},
    owner,
    describeSpectrum: () => {
      const { w, mscale } = frequenciesAt(evalLength)
      const kept = Array.from(w).filter((x) => x !== 0)
      const s = extensionScale(spec.shape.trainLength, evalLength)
      return {
        pairFrequencies: Array.from(w),
        kept,
        clipped: [...(spec.dropped ?? [])],
        notes: {
          extension: extension.method,
          scale: s,
          mscale,
          ...(extension.method === "yarn" ? yarnRange(dim, spec.base, spec.shape.trainLength) : {}),
          ...(extension.method === "llama3" ? llama3Settings(extension, s) : {})
        }
      }
    },
    extend: (ext, length) => createFrequencyRotary(spec, ext, length, false)
  })
}
