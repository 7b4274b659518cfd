/**
 * Randomized positional encodings (Ruoss et al. 2023, "Randomized Positional Encodings Boost Length
 * Generalization of Transformers", ACL 2023, section 3): at training, a sequence of length T is given the
 * positions of a sorted random subset of size T of [0, M), M much larger than T (the largest length the model
 * should handle), instead of 0..T-1; at evaluation the positions are 0..T'-1 as usual. The model then sees
 * every position up to M during training, and the ORDER of positions, not their exact values, carries the
 * sequence structure.
 *
 * Not a method of its own but an option of every method whose hooks take positions (`takesPositions`: RoPE,
 * p-RoPE, HoPE, xPos, FoPE, sinusoidal): the registry wraps the built method when its `randomPositions` parameter
 * (M) is > 0. The wrapper adds only `trainingPositions`; its hooks are the method's. One subset per training step,
 * shared by the rows of the batch (as the reference implementation draws one per batch), drawn from a generator
 * named by the seed and the step number, so a resumed run draws the same positions as an uninterrupted one.
 */
import { Schema } from "effect"
import { EmbeddingError, type PositionEmbedding } from "./interface.js"
import { integerParam } from "./params.js"
import { SeededRandom } from "./seeded-random.js"

/** The parameter the registry offers every method that takes positions, beside the method's own. */
export const RandomPositionsParams = Schema.Struct({
  randomPositions: integerParam({
    default: 0,
    min: 0,
    max: 1 << 24,
    doc: "randomized positions (Ruoss et al. 2023): train at a sorted random subset of [0, M), M = this; 0 = off"
  })
})
export type RandomPositionsParams = typeof RandomPositionsParams.Type

/**
 * T distinct integers of [0, M), sorted ascending, uniformly drawn (partial Fisher-Yates over [0, M) in a sparse
 * map, T swaps: O(T) time and memory whatever M).
 */
export const sortedRandomSubset = (rng: SeededRandom, T: number, M: number): number[] => {
  if (!Number.isInteger(T) || T < 0 || T > M) {
    throw new EmbeddingError(
      `randomized positions: cannot draw ${T} distinct positions from [0, ${M}); raise randomPositions to at least the training length`
    )
  }
  const swapped = new Map<number, number>()
  const out: number[] = []
  for (let i = 0; i < T; i++) {
    const j = i + rng.int(M - i)
    const atJ = swapped.get(j) ?? j
    swapped.set(j, swapped.get(i) ?? i)
    out.push(atJ)
  }
  return out.sort((a, b) => a - b)
}

/** The positions of training step `step` at length T: a sorted random subset of [0, M), from (seed, step). */
export const trainingPositionsAt = (seed: number, M: number, T: number, step: number): number[] =>
  sortedRandomSubset(SeededRandom.create(seed, `random-positions/step${step}`), T, M)

/** `inner` trained at randomized positions in [0, M); evaluation views (`extend`) are the inner method's, unrandomized. */
export const withRandomizedPositions = (inner: PositionEmbedding, M: number, seed: number): PositionEmbedding => {
  if (M < inner.shape.trainLength) {
    throw new EmbeddingError(
      `${inner.name}: randomPositions ${M} is below the training length ${inner.shape.trainLength}; ` +
        `choose M >= the longest evaluation length (Ruoss et al. use M much larger than the training length)`
    )
  }
  return {
    ...inner,
    params: { ...inner.params, randomPositions: M },
    trainingPositions: (T, step) => trainingPositionsAt(seed, M, T, step),
    describeSpectrum: () => {
      const d = inner.describeSpectrum()
      return { ...d, notes: { ...(d.notes ?? {}), randomPositions: M } }
    }
  }
}
