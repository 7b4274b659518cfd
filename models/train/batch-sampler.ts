/**
 * Training batches: B windows of T+1 tokens at seeded random starts over the training tokens. Optionally a mixer
 * replaces each row, with probability `fraction`, by a synthetic example (e.g. a passkey prompt) so that small
 * models can learn retrieval at the training length. The whole state is explicit (two generators and a cursor),
 * so a checkpoint can resume the exact same sequence of batches.
 */
import { SeededRandom, type SeededRandomState } from "../../embeddings/seeded-random.js"

export interface Mixer {
  readonly fraction: number
  /** a synthetic example of exactly `length` tokens (longer ones are cut; shorter ones are an error) */
  make(rng: SeededRandom, length: number): Int32Array
}

export interface SamplerState {
  /** batches drawn so far */
  readonly cursor: number
  readonly rng: { readonly "data-order": SeededRandomState; readonly mixer: SeededRandomState }
  /** synthetic rows drawn so far */
  readonly mixedRows: number
}

export class BatchSampler {
  private order: SeededRandom
  private mixRng: SeededRandom
  private cursor = 0
  private mixedRows = 0

  constructor(
    private readonly data: Int32Array,
    readonly batchSize: number,
    readonly seqLength: number,
    seed: number,
    private readonly mixer?: Mixer
  ) {
    if (data.length < seqLength + 1) {
      throw new Error(
        `the training data has ${data.length} tokens, fewer than one window of seqLength + 1 = ${seqLength + 1}: use a larger corpus or a shorter seqLength`
      )
    }
    if (mixer && !(mixer.fraction >= 0 && mixer.fraction <= 1)) {
      throw new Error(`mixer fraction must be in [0, 1], got ${mixer.fraction}`)
    }
    this.order = SeededRandom.create(seed, "data-order")
    this.mixRng = SeededRandom.create(seed, "mixer")
  }

  /** The next batch, row-major [B, T+1]. */
  next(): Int32Array {
    const B = this.batchSize
    const W = this.seqLength + 1
    const out = new Int32Array(B * W)
    const starts = this.data.length - W + 1
    for (let b = 0; b < B; b++) {
      // every row draws its window start, mixed or not, so the mixer never shifts the data order
      const start = this.order.int(starts)
      if (this.mixer && this.mixer.fraction > 0 && this.mixRng.uniform() < this.mixer.fraction) {
        const example = this.mixer.make(this.mixRng, W)
        if (example.length < W) {
          throw new Error(
            `the mixer made an example of ${example.length} tokens, the batch needs ${W} (seqLength + 1): make it return exactly the length asked`
          )
        }
        out.set(example.subarray(0, W), b * W)
        this.mixedRows++
      } else {
        out.set(this.data.subarray(start, start + W), b * W)
      }
    }
    this.cursor++
    return out
  }

  state(): SamplerState {
    return { cursor: this.cursor, rng: { "data-order": this.order.state(), mixer: this.mixRng.state() }, mixedRows: this.mixedRows }
  }

  restore(state: SamplerState): void {
    this.order = SeededRandom.fromState(state.rng["data-order"])
    this.mixRng = SeededRandom.fromState(state.rng.mixer)
    this.cursor = state.cursor
    this.mixedRows = state.mixedRows
  }
}
