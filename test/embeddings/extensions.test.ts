/** Inference-time extensions (position-embeddings.md, "Inference-time extensions") and views. */
import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { EmbeddingError } from "../../embeddings/interface.js"
import { probeRotaryTables } from "../../embeddings/inspect.js"
import { createEmbedding } from "../../embeddings/registry.js"
import { dynamicNtkBase, ntkBase, ropeFrequencies, yarnFrequencies, yarnMscale } from "../../embeddings/rotary-frequencies.js"
import { shapeOf, useCpu } from "./helpers.js"

beforeAll(useCpu)

const shape = shapeOf({ headDim: 32, heads: 2, trainLength: 128 })

/** cos of pair k at position t from the hook, head 0, layer 0 */
const cosAt = (e: ReturnType<typeof createEmbedding>, T: number, t: number, k: number): number =>
  probeRotaryTables(e, T, 0).q.cos[0]![t]![k]!

describe("rotary extensions", () => {
  it("PI divides the frequencies by s", () => {
    const e = createEmbedding({ name: "rope", params: {} }, shape, 1)
    const v = e.extend({ method: "pi" }, 512)
    const w = ropeFrequencies(32, 10000)
    v.describeSpectrum().pairFrequencies.forEach((x, k) => expect(x).toBeCloseTo(w[k]! / 4, 12))
    expect(cosAt(v, 20, 17, 3)).toBeCloseTo(Math.cos((17 * w[3]!) / 4), 5)
    v.dispose()
    e.dispose()
  })

  it("NTK uses the base b*s^(d/(d-2))", () => {
    const e = createEmbedding({ name: "rope", params: {} }, shape, 1)
    const v = e.extend({ method: "ntk" }, 512)
    const w = ropeFrequencies(32, ntkBase(10000, 32, 4))
    expect(v.describeSpectrum().pairFrequencies[1]).toBeCloseTo(w[1]!, 12)
    expect(cosAt(v, 40, 33, 5)).toBeCloseTo(Math.cos(33 * w[5]!), 5)
    v.dispose()
    e.dispose()
  })

  it("dynamic NTK keeps b up to L and uses b' at the current length beyond", () => {
    const e = createEmbedding({ name: "rope", params: {} }, shape, 1)
    const v = e.extend({ method: "dynamic-ntk" }, 512)
    const short = ropeFrequencies(32, 10000)
    const long = ropeFrequencies(32, dynamicNtkBase(10000, 32, 128, 4, 512))
    expect(cosAt(v, 100, 99, 4)).toBeCloseTo(Math.cos(99 * short[4]!), 5)
    expect(cosAt(v, 512, 300, 4)).toBeCloseTo(Math.cos(300 * long[4]!), 5)
    v.dispose()
    e.dispose()
  })

  it("YaRN scales the frequencies by parts and C, S by mscale (or not, temperature false)", () => {
    const e = createEmbedding({ name: "rope", params: {} }, shape, 1)
    const v = e.extend({ method: "yarn" }, 512)
    const cold = e.extend({ method: "yarn", temperature: false }, 512)
    const w = yarnFrequencies(ropeFrequencies(32, 10000), 4, 32, 10000, 128)
    expect(cosAt(v, 8, 0, 0)).toBeCloseTo(yarnMscale(4), 5)
    expect(cosAt(v, 8, 7, 9)).toBeCloseTo(yarnMscale(4) * Math.cos(7 * w[9]!), 5)
    expect(cosAt(cold, 8, 7, 9)).toBeCloseTo(Math.cos(7 * w[9]!), 5)
    expect(v.describeSpectrum().notes).toMatchObject({ lo: 0, hi: 6, extension: "yarn" })
    for (const x of [v, cold, e]) x.dispose()
  })

  it("extensions apply to xPos and p-RoPE; p-RoPE's dropped pairs stay identity", () => {
    const p = createEmbedding({ name: "p-rope", params: { p: 0.75 } }, shape, 1)
    expect(p.describeSpectrum().kept).toHaveLength(12)
    expect(p.describeSpectrum().clipped).toHaveLength(4)
    const pv = p.extend({ method: "yarn" }, 512)
    const tables = probeRotaryTables(pv, 10, 0).q
    expect(tables.cos[0]![9]![14]).toBeCloseTo(yarnMscale(4), 6) // zero frequency: cos 1 (times mscale)
    expect(tables.sin[0]![9]![14]).toBe(0)
    const x = createEmbedding({ name: "xpos", params: {} }, shape, 1)
    const xv = x.extend({ method: "pi" }, 512)
    expect(xv.describeSpectrum().pairFrequencies[2]).toBeCloseTo(ropeFrequencies(32, 10000)[2]! / 4, 12)
    for (const y of [pv, p, xv, x]) y.dispose()
  })

  it("FoPE + YaRN: clip at the new floor, YaRN on the survivors, zero rows for new survivors", () => {
    // d = 32: K = 6 at L = 128; at L' = 512 the floor 2*pi/512 keeps 8.
    const e = createEmbedding({ name: "fope", params: { sigma: 0 } }, shape, 1)
    const v = e.extend({ method: "yarn" }, 512)
    const spec = v.describeSpectrum()
    expect(spec.kept).toHaveLength(8)
    expect(spec.notes).toMatchObject({ K: 6, dOut: 6, newRows: 2 })
    const w = yarnFrequencies(ropeFrequencies(32, 10000).slice(0, 8), 4, 32, 10000, 128)
    spec.kept.forEach((x, k) => expect(x).toBeCloseTo(w[k]!, 12))
    // sigma = 0: C pair i = mscale*cos(t*w'_i) for i < 6; the new rows contribute nothing
    const m = yarnMscale(4)
    for (const k of [0, 3, 5]) expect(cosAt(v, 300, 250, k)).toBeCloseTo(m * Math.cos(250 * w[k]!), 4)
    expect(cosAt(v, 300, 250, 10)).toBeCloseTo(m, 5) // padded pair: 1 * mscale
    // the owner's coefficients are shared, not copied or freed
    expect(v.fixed).toBe(e.fixed)
    v.dispose()
    expect(e.fixed["layer0/cosCoef"]!.isDisposed).toBe(false)
    const noTemp = e.extend({ method: "yarn", temperature: false }, 512)
    expect(cosAt(noTemp, 8, 0, 0)).toBeCloseTo(1, 6)
    noTemp.dispose()
    e.dispose()
  })

  it("FoPE rejects PI / NTK with a message naming the supported extensions", () => {
    const e = createEmbedding({ name: "fope", params: {} }, shape, 1)
    expect(() => e.extend({ method: "pi" }, 512)).toThrow(EmbeddingError)
    expect(() => e.extend({ method: "ntk" }, 512)).toThrow(/yarn/)
    e.dispose()
  })

  it("non-rotary methods: 'none' gives a view, others fail naming the method and the rotary family", () => {
    for (const name of ["nope", "sinusoidal", "learned", "alibi", "kerple-log", "kerple-power", "fire", "t5"]) {
      const e = createEmbedding({ name, params: {} }, shape, 1)
      const view = e.extend({ method: "none" }, 512)
      expect(view).not.toBe(e)
      expect(view.trainable).toBe(e.trainable)
      view.dispose()
      for (const v of e.trainable) expect(v.isDisposed).toBe(false)
      for (const method of ["pi", "ntk", "dynamic-ntk", "yarn"] as const) {
        let message = ""
        try {
          e.extend({ method }, 512)
        } catch (err) {
          expect(err).toBeInstanceOf(EmbeddingError)
          message = (err as Error).message
        }
        expect(message).toContain(name)
        expect(message).toContain("rotary")
      }
      e.dispose()
    }
  })

  it("a rotary view frees its own tables, not the owner's", () => {
    const e = createEmbedding({ name: "rope", params: {} }, shape, 1)
    const q = tf.ones([1, 2, 8, 32]) as tf.Tensor4D
    const run = (x: typeof e) => tf.tidy(() => x.queryKey!(q, q, 0)[0].dataSync()[5]!)
    const first = run(e)
    const v = e.extend({ method: "none" }, 128)
    expect(run(v)).toBe(first)
    v.dispose()
    expect(run(e)).toBe(first)
    q.dispose()
    e.dispose()
  })
})
