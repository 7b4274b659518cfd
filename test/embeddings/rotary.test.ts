/** RoPE / FoPE invariants (position-embeddings.md, "RoPE" and "FoPE", step 7). */
import * as tf from "@tensorflow/tfjs"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { fopePlan } from "../../embeddings/fope.js"
import type { PositionEmbedding } from "../../embeddings/interface.js"
import { createEmbedding } from "../../embeddings/registry.js"
import { floorFrequency, ropeFrequencies } from "../../embeddings/rotary-frequencies.js"
import { maxAbsDiff, randomTensor, shapeOf, useCpu } from "./helpers.js"

const made: PositionEmbedding[] = []
const make = (name: string, params: Record<string, unknown>, shape = shapeOf({ headDim: 32, heads: 2 }), seed = 1) => {
  const e = createEmbedding({ name, params }, shape, seed)
  made.push(e)
  return e
}

beforeAll(useCpu)
afterEach(() => {
  while (made.length > 0) made.pop()!.dispose()
})

/** Scores <q'_m, k'_n> [B, H, T, T] after the hook of layer 0. */
const scores = (e: PositionEmbedding, q: tf.Tensor4D, k: tf.Tensor4D): tf.Tensor4D =>
  tf.tidy(() => {
    const [qq, kk] = e.queryKey!(q, k, 0)
    return tf.matMul(qq, kk, false, true) as tf.Tensor4D
  })

describe("RoPE", () => {
  it("scores depend only on the relative position m - n", () => {
    const e = make("rope", {})
    const T = 40
    const hd = 32
    // The same q vector and k vector at every position: then score(m, n) must be a function of m - n.
    const q = tf.tile(randomTensor([1, 2, 1, hd], 1, "q"), [1, 1, T, 1]) as tf.Tensor4D
    const k = tf.tile(randomTensor([1, 2, 1, hd], 2, "k"), [1, 1, T, 1]) as tf.Tensor4D
    const s = scores(e, q, k).arraySync()[0]!
    let worst = 0
    for (const head of s) {
      for (let m = 0; m < T; m++) {
        for (let n = 0; n < T; n++) {
          // compare with the pair shifted to the start: (m - min, n - min)
          const shift = Math.min(m, n)
          worst = Math.max(worst, Math.abs(head[m]![n]! - head[m - shift]![n - shift]!))
        }
      }
    }
    expect(worst).toBeLessThan(1e-4)
    // and it is not trivially constant: different offsets give different scores
    expect(Math.abs(s[0]![5]![0]! - s[0]![0]![0]!)).toBeGreaterThan(1e-3)
    tf.dispose([q, k])
  })

  it("applies the half-split rotation x*C + rot(x)*S with C = cos(t*w), S = sin(t*w)", () => {
    const e = make("rope", {}, shapeOf({ headDim: 4, heads: 1 }))
    const x = tf.tensor4d([1, 2, 3, 4, 1, 2, 3, 4], [1, 1, 2, 4])
    const [y] = e.queryKey!(x, x, 0)
    const w = ropeFrequencies(4, 10000)
    const t = 1
    const c = [Math.cos(t * w[0]!), Math.cos(t * w[1]!)]
    const s = [Math.sin(t * w[0]!), Math.sin(t * w[1]!)]
    // pair k is (x[k], x[k+2]): (1, 3) and (2, 4)
    const expected = [1 * c[0]! - 3 * s[0]!, 2 * c[1]! - 4 * s[1]!, 3 * c[0]! + 1 * s[0]!, 4 * c[1]! + 2 * s[1]!]
    const row = Array.from(y.dataSync()).slice(4)
    expected.forEach((v, i) => expect(row[i]!).toBeCloseTo(v, 5))
    expect(Array.from(y.dataSync()).slice(0, 4)).toEqual([1, 2, 3, 4]) // t = 0 is the identity
    tf.dispose([x, y])
  })

  it("caches its tables: the tensor count is constant across calls", () => {
    const e = make("rope", {})
    const q = randomTensor([1, 2, 16, 32], 3) as tf.Tensor4D
    tf.tidy(() => {
      e.queryKey!(q, q, 0)
    })
    const before = tf.memory().numTensors
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        e.queryKey!(q, q, 0)
      })
    }
    expect(tf.memory().numTensors).toBe(before)
    q.dispose()
  })
})

describe("FoPE", () => {
  it("clipping keeps exactly the frequencies >= 2*pi/L (d = 32, L = 128 keeps 6 of 16)", () => {
    const shape = shapeOf({ headDim: 32, heads: 2, trainLength: 128 })
    const plan = fopePlan({ fourierDim: 0, clip: true, base: 10000 }, shape)
    expect(plan.K).toBe(6)
    expect(plan.clipped.length).toBe(10)
    const floor = floorFrequency(128)
    expect(plan.kept.every((w) => w >= floor)).toBe(true)
    expect(plan.clipped.every((w) => w < floor)).toBe(true)
    const e = make("fope", {}, shape)
    expect(e.describeSpectrum().kept.length).toBe(6)
    expect(e.describeSpectrum().notes?.["dOut"]).toBe(6)
    // without clipping all 16 stay, dOut = d/4 = 8
    const all = fopePlan({ fourierDim: 0, clip: false, base: 10000 }, shape)
    expect([all.K, all.dOut]).toEqual([16, 8])
  })

  it("sigma = 0 gives exactly RoPE on the kept pairs", () => {
    const shape = shapeOf({ headDim: 32, heads: 2, trainLength: 128 })
    const fope = make("fope", { sigma: 0 }, shape)
    const rope = make("rope", {}, shape)
    const x = randomTensor([2, 2, 50, 32], 4) as tf.Tensor4D
    const [f] = fope.queryKey!(x, x, 0)
    const [r] = rope.queryKey!(x, x, 0)
    // kept pairs 0..5 are channels 0..5 and 16..21
    const keptChannels = (t: tf.Tensor) =>
      tf.concat([tf.slice(t, [0, 0, 0, 0], [-1, -1, -1, 6]), tf.slice(t, [0, 0, 0, 16], [-1, -1, -1, 6])], 3)
    expect(maxAbsDiff(keptChannels(f), keptChannels(r))).toBeLessThan(1e-5)
    // and the padded pairs are not RoPE's (they carry no rotation)
    expect(maxAbsDiff(f, r)).toBeGreaterThan(1e-2)
    tf.dispose([x, f, r])
  })

  it("a padded pair contributes exactly 2(q.k) at every pair of positions", () => {
    const shape = shapeOf({ headDim: 32, heads: 2, trainLength: 128 })
    const e = make("fope", {}, shape) // sigma 0.3: noise on the kept pairs, padded pairs are exact
    const T = 24
    const q = randomTensor([1, 2, T, 32], 5, "q") as tf.Tensor4D
    const k = randomTensor([1, 2, T, 32], 6, "k") as tf.Tensor4D
    const [qq, kk] = e.queryKey!(q, k, 0)
    // pairs 6..15 are padded: channels 6..15 and 22..31
    const padded = (t: tf.Tensor) =>
      tf.concat([tf.slice(t, [0, 0, 0, 6], [-1, -1, -1, 10]), tf.slice(t, [0, 0, 0, 22], [-1, -1, -1, 10])], 3)
    const after = tf.matMul(padded(qq), padded(kk), false, true)
    const before = tf.mul(2, tf.matMul(padded(q), padded(k), false, true))
    expect(maxAbsDiff(after, before)).toBeLessThan(1e-4)
    tf.dispose([q, k, qq, kk, after, before])
  })

  it("padSin 0 gives the padded pairs C = 1, S = 0 (identity)", () => {
    const shape = shapeOf({ headDim: 32, heads: 1, trainLength: 128 })
    const e = make("fope", { padSin: 0 }, shape)
    const x = randomTensor([1, 1, 10, 32], 7) as tf.Tensor4D
    const [y] = e.queryKey!(x, x, 0)
    const pad = (t: tf.Tensor) => tf.slice(t, [0, 0, 0, 6], [-1, -1, -1, 10])
    expect(maxAbsDiff(pad(y), pad(x))).toBeLessThan(1e-6)
    tf.dispose([x, y])
  })

  it("with sigma > 0 the score depends slightly on absolute position (expected)", () => {
    const shape = shapeOf({ headDim: 32, heads: 1, trainLength: 128 })
    const e = make("fope", { sigma: 0.3 }, shape)
    const T = 30
    const q = tf.tile(randomTensor([1, 1, 1, 32], 1, "q"), [1, 1, T, 1]) as tf.Tensor4D
    const k = tf.tile(randomTensor([1, 1, 1, 32], 2, "k"), [1, 1, T, 1]) as tf.Tensor4D
    const s = scores(e, q, k).arraySync()[0]![0]!
    let worst = 0
    for (let m = 1; m < T; m++) worst = Math.max(worst, Math.abs(s[m]![m - 1]! - s[1]![0]!))
    expect(worst).toBeGreaterThan(1e-5)
    expect(worst).toBeLessThan(0.5 * Math.abs(s[1]![0]!) + 1)
    tf.dispose([q, k])
  })

  it("uses the step identity when K > dOut (clip off: K = 16, dOut = 8, step 2)", () => {
    const shape = shapeOf({ headDim: 32, heads: 2, trainLength: 128 })
    const e = make("fope", { sigma: 0, clip: false }, shape)
    const A = e.fixed["layer0/cosCoef"]!
    expect(A.shape).toEqual([2, 16, 8])
    const a = A.arraySync() as number[][][]
    for (let i = 0; i < 16; i++) for (let o = 0; o < 8; o++) expect(a[1]![i]![o]).toBe(i === 2 * o ? 1 : 0)
    expect(e.describeSpectrum().pairFrequencies.slice(0, 3)).toEqual(
      Array.from(ropeFrequencies(32, 10000))
        .filter((_, i) => i % 2 === 0)
        .slice(0, 3)
    )
  })

  it("normalize divides the coefficients by their column sums (sigma = 0: unchanged tables)", () => {
    const shape = shapeOf({ headDim: 32, heads: 2, trainLength: 128 })
    const plain = make("fope", { sigma: 0 }, shape)
    const normalized = make("fope", { sigma: 0, normalize: true }, shape)
    const noisy = make("fope", { sigma: 0.3, normalize: true }, shape)
    const noisyPlain = make("fope", { sigma: 0.3 }, shape)
    const x = randomTensor([1, 2, 12, 32], 8) as tf.Tensor4D
    const [a] = plain.queryKey!(x, x, 0)
    const [b] = normalized.queryKey!(x, x, 0)
    const [c] = noisy.queryKey!(x, x, 0)
    const [d] = noisyPlain.queryKey!(x, x, 0)
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-6)
    expect(maxAbsDiff(c, d)).toBeGreaterThan(1e-4)
    tf.dispose([x, a, b, c, d])
  })

  it("fourierDim > d makes the grid denser", () => {
    const shape = shapeOf({ headDim: 32, heads: 2, trainLength: 128 })
    const plan = fopePlan({ fourierDim: 64, clip: true, base: 10000 }, shape)
    expect(plan.grid.length).toBe(32)
    expect(plan.K).toBe(11) // 10000^(-k/32) >= 2*pi/128 for k <= 10.47 (d = 32 alone keeps 6)
    expect(plan.dOut).toBe(8)
    expect(() => fopePlan({ fourierDim: 33, clip: true, base: 10000 }, shape)).toThrow(/fourierDim/)
  })
})
