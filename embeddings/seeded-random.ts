/**
 * A small, explicit, serialisable pseudo-random generator (sfc32, Chris Doty-Humphrey's
 * "Small Fast Counting" generator, 128 bits of state). Every random draw in the harness comes
 * from one of these, created from an explicit seed and a purpose string, so that
 *   - two runs with the same seed draw the same numbers on every platform (pure 32-bit integer math);
 *   - a checkpoint can save and restore the exact state of every generator (`state()` / `fromState`).
 * No `Math.random`, no unseeded tfjs random ops anywhere in the harness.
 */

export interface SeededRandomState {
  readonly s: readonly [number, number, number, number]
  /** Box-Muller produces normals in pairs; the unused one is part of the state. */
  readonly spare: number | null
}

/** FNV-1a 32-bit hash of a string: turns a purpose name ("init", "data-order", ...) into seed material. */
export const fnv1a32 = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

/** splitmix32: spreads a 32-bit seed over the 128-bit state so that nearby seeds give unrelated streams. */
const splitmix32 = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x9e3779b9) >>> 0
    let z = a
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

export class SeededRandom {
  private a: number
  private b: number
  private c: number
  private d: number
  private spare: number | null = null

  private constructor(s: readonly [number, number, number, number], spare: number | null) {
    this.a = s[0] >>> 0
    this.b = s[1] >>> 0
    this.c = s[2] >>> 0
    this.d = s[3] >>> 0
    this.spare = spare
  }

  /** A generator for one purpose under one seed: `SeededRandom.create(seed, "init/layer3/fope")`. */
  static create(seed: number, purpose = ""): SeededRandom {
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`)
    const mix = splitmix32((seed >>> 0) ^ fnv1a32(purpose) ^ Math.floor(seed / 2 ** 32))
    const r = new SeededRandom([mix(), mix(), mix(), mix()], null)
    for (let i = 0; i < 12; i++) r.nextUint32() // discard the warm-up outputs, as sfc32's author recommends
    return r
  }

  static fromState(state: SeededRandomState): SeededRandom {
    return new SeededRandom(state.s, state.spare)
  }

  state(): SeededRandomState {
    return { s: [this.a, this.b, this.c, this.d], spare: this.spare }
  }

  /** A child generator for a sub-purpose, independent of how many draws this one has made. */
  fork(purpose: string): SeededRandom {
    return SeededRandom.create((this.a ^ fnv1a32(purpose)) >>> 0, `${purpose}/${this.b}/${this.c}/${this.d}`)
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0
    this.d = (this.d + 1) >>> 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) >>> 0
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0
    this.c = (this.c + t) >>> 0
    return t >>> 0
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296
  }

  /** Uniform in [lo, hi). */
  uniformIn(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform()
  }

  /** Uniform integer in [0, n) without modulo bias (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new Error(`int(n) needs 0 < n <= 2^32, got ${n}`)
    const limit = Math.floor(4294967296 / n) * n
    for (;;) {
      const x = this.nextUint32()
      if (x < limit) return x % n
    }
  }

  /** Standard normal (Box-Muller, both outputs used). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare
      this.spare = null
      return s
    }
    let u = 0
    while (u === 0) u = this.uniform()
    const v = this.uniform()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }

  /** Normal(0, std) cut at +-cut*std by resampling (PyTorch's trunc_normal_ semantics, a = -cut*std, b = cut*std). */
  truncatedNormal(std: number, cut = 3): number {
    for (;;) {
      const z = this.normal()
      if (Math.abs(z) <= cut) return z * std
    }
  }

  /** Float32Array of n draws from `draw`. */
  fill(n: number, draw: (r: SeededRandom) => number): Float32Array {
    const out = new Float32Array(n)
    for (let i = 0; i < n; i++) out[i] = draw(this)
    return out
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = xs[i]!
      xs[i] = xs[j]!
      xs[j] = t
    }
    return xs
  }
}
