/**
 * The shared body of the methods outside the rotary family (NoPE, sinusoidal, learned absolute, ALiBi,
 * KERPLE, FIRE, T5): hooks given by the method, caches freed on dispose, variables owned, and `extend`
 * that gives a view for "none" and fails for the rotary extensions.
 */
import type * as tf from "@tensorflow/tfjs"
import type { EmbeddingFamily, EmbeddingShape, PositionEmbedding, SpectrumDescription } from "./interface.js"
import { extendNonRotary } from "./rotary-extensions.js"
import { namedStats } from "./tensor-stats.js"

export interface StaticParts {
  readonly name: string
  readonly family: EmbeddingFamily
  readonly params: Readonly<Record<string, unknown>>
  readonly shape: EmbeddingShape
  readonly input?: (T: number, positions?: ReadonlyArray<number>) => tf.Tensor2D
  readonly scoreBias?: (T: number, layer: number) => tf.Tensor3D
  readonly queryKey?: PositionEmbedding["queryKey"]
  readonly inputBias?: PositionEmbedding["inputBias"]
  readonly normalise?: PositionEmbedding["normalise"]
  readonly maxLength?: number
  /** named trainable variables, in a stable order */
  readonly variables?: ReadonlyArray<readonly [string, tf.Variable]>
  /** caches (anything with dispose) freed with the embedding */
  readonly caches?: ReadonlyArray<{ dispose(): void }>
  readonly notes?: Readonly<Record<string, number | string | boolean>>
}

export const staticEmbedding = (parts: StaticParts): PositionEmbedding => {
  const variables = parts.variables ?? []
  const embedding: PositionEmbedding = {
    name: parts.name,
    family: parts.family,
    params: parts.params,
    shape: parts.shape,
    ...(parts.input ? { input: parts.input } : {}),
    ...(parts.scoreBias ? { scoreBias: parts.scoreBias } : {}),
    ...(parts.queryKey ? { queryKey: parts.queryKey } : {}),
    ...(parts.inputBias ? { inputBias: parts.inputBias } : {}),
    ...(parts.normalise ? { normalise: parts.normalise } : {}),
    ...(parts.maxLength !== undefined ? { maxLength: parts.maxLength } : {}),
    trainable: variables.map(([, v]) => v),
    trainableNames: variables.map(([n]) => n),
    fixed: {},
    extend: (extension, evalLength) => extendNonRotary(embedding, extension, evalLength),
    describeSpectrum: (): SpectrumDescription => ({
      pairFrequencies: [],
      kept: [],
      clipped: [],
      ...(variables.length > 0 ? { coefficients: namedStats(variables) } : {}),
      ...(parts.notes ? { notes: parts.notes } : {})
    }),
    dispose: () => {
      for (const c of parts.caches ?? []) c.dispose()
      for (const [, v] of variables) v.dispose()
    }
  }
  return embedding
}
