/**
 * The shared body of every rotary method (RoPE, p-RoPE, xPos, FoPE): a queryKey hook that applies
 * `x' = x*C + rot(x)*S` with tables for (layer, T), cached when they do not depend on trainable variables.
 */
import type * as tf from "@tensorflow/tfjs"
import type { EmbeddingShape, ExtensionSpec, PositionEmbedding, SpectrumDescription } from "./interface.js"
import { applyRotary } from "./rotary-apply.js"
import type { RotaryTables } from "./rotary-tables.js"
import { TableCache } from "./table-cache.js"

export interface RotaryParts {
  readonly name: string
  readonly params: Readonly<Record<string, unknown>>
  readonly shape: EmbeddingShape
  /** tables at length T for `layer` (at `positions` when given, else 0..T-1), built in the caller's scope */
  readonly tables: (T: number, layer: number, positions?: ReadonlyArray<number>) => RotaryTables
  /** a cache key for (T, layer); null: the tables depend on trainable variables and are rebuilt each call */
  readonly cacheKey: ((T: number, layer: number) => string) | null
  readonly trainable: ReadonlyArray<tf.Variable>
  readonly trainableNames: ReadonlyArray<string>
  readonly fixed: Readonly<Record<string, tf.Tensor>>
  /** true for the embedding that created the variables and fixed tensors (not for a view) */
  readonly owner: boolean
  readonly describeSpectrum: () => SpectrumDescription
  readonly extend: (extension: ExtensionSpec, evalLength: number) => PositionEmbedding
}

export const rotaryEmbedding = (parts: RotaryParts): PositionEmbedding => {
  const cache = new TableCache<RotaryTables>()
  const tablesAt = (T: number, layer: number): RotaryTables =>
    parts.cacheKey === null ? parts.tables(T, layer) : cache.get(parts.cacheKey(T, layer), () => parts.tables(T, layer))

  return {
    name: parts.name,
    family: "rotary",
    params: parts.params,
    shape: parts.shape,
    // q, k [B, H, T, hd] -> [B, H, T, hd]
    queryKey: (q, k, layer, positions) => {
      const T = q.shape[2]
      // positions other than 0..T-1 change every training step: built for the call, never cached
      const tables = positions ? parts.tables(T, layer, positions) : tablesAt(T, layer)
      return [applyRotary(q, tables.q.cos, tables.q.sin), applyRotary(k, tables.k.cos, tables.k.sin)] as const
    },
    trainable: parts.trainable,
    trainableNames: parts.trainableNames,
    fixed: parts.fixed,
    extend: parts.extend,
    describeSpectrum: parts.describeSpectrum,
    dispose: () => {
      cache.dispose()
      if (parts.owner) {
        for (const v of parts.trainable) v.dispose()
        for (const t of Object.values(parts.fixed)) t.dispose()
      }
    }
  }
}
