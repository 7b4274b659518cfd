import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { dft, hannWindow, powerSpectrum } from "../../../models/eval/fft.js"
import { ownBandMask, spectrumDamage } from "../../../models/eval/spectrum.js"
import { fakeEmbedding, normals, queryKeyModel, ropeRotate, uniformModel, useCpu } from "./fake-models.js"

beforeAll(useCpu)

const naiveDft = (re: number[], im: number[]) => {
  const n = re.length
  const out = { re: new Array<number>(n).fill(0), im: new Array<number>(n).fill(0) }
  for (let k = 0; k < n; k++)
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n
      out.re[k] += re[t]! * Math.cos(a) - im[t]! * Math.sin(a)
      out.im[k] += re[t]! * Math.sin(a) + im[t]! * Math.cos(a)
    }
  return out
}

describe("dft", () => {
  it("matches the definition for power-of-two and other lengths", () => {
    for (const n of [8, 12, 31, 64, 100]) {
      const re = Array.from(normals(n, n, "re"))
      const im = Array.from(normals(n, n, "im"))
      const fast = dft(re, im)
      const slow = naiveDft(re, im)
      for (let k = 0; k < n; k++) {
        expect(fast.re[k]).toBeCloseTo(slow.re[k]!, 8)
        expect(fast.im[k]).toBeCloseTo(slow.im[k]!, 8)
      }
    }
  })

  it("puts e^{+i w t} at bin w T / 2pi", () => {
    const T = 64
    const w = (2 * Math.PI * 5) / T
    const p = powerSpectrum(
      Array.from({ length: T }, (_, t) => Math.cos(w * t)),
      Array.from({ length: T }, (_, t) => Math.sin(w * t))
    )
    expect(p.indexOf(Math.max(...p))).toBe(5)
    Array.from(hannWindow(4)).forEach((v, t) => expect(v).toBeCloseTo([0, 0.5, 1, 0.5][t]!, 12))
    expect(
      Array.from(ownBandMask(16, (2 * Math.PI * 3) / 16, 1))
        .map((x, n) => (x ? n : -1))
        .filter((n) => n >= 0)
    ).toEqual([2, 3, 4, 12, 13, 14])
  })
})

describe("spectrumDamage", () => {
  const H = 2
  const hd = 8
  const layers = 2
  const w = Array.from({ length: hd / 2 }, (_, k) => Math.pow(10000, (-2 * k) / hd))
  const rotary = () => fakeEmbedding({ name: "rope", family: "rotary", heads: H, headDim: hd, layers, pairFrequencies: w })
  // the fake embedding needs a queryKey hook to count as rotary-applied
  const withHook = () => Object.assign(rotary(), { queryKey: (q: tf.Tensor4D, k: tf.Tensor4D) => [q, k] as const })
  const valid = Int32Array.from({ length: 4000 }, (_, i) => i % 8)

  it("is ~0 for pure RoPE rotations of position-independent vectors", async () => {
    const model = queryKeyModel(withHook(), layers, (layer, B, T) => {
      // one random vector per (window, head), the same at every position, then rotated by RoPE
      const make = (purpose: string) => {
        const base = normals(B * H * hd, layer, purpose)
        const x = new Float32Array(B * H * T * hd)
        for (let bh = 0; bh < B * H; bh++) for (let t = 0; t < T; t++) x.set(base.subarray(bh * hd, (bh + 1) * hd), (bh * T + t) * hd)
        return ropeRotate(x, B, H, T, hd, w)
      }
      return { q: make("q"), k: make("k") }
    })
    const { result, metrics } = await spectrumDamage(model, valid, 128, { windows: 4 })
    expect(result.applicable).toBe(true)
    if (!result.applicable) return
    expect(result.damage).toBeLessThan(0.01)
    expect(result.perSample).toBeLessThan(0.01)
    expect(result.layers).toHaveLength(layers)
    for (const l of result.layers) for (const p of l.pairs) expect(p.damage).toBeLessThan(0.01)
    expect(result.perLayer).toEqual(result.layers.map((l) => l.damage))
    expect(metrics[0]).toMatchObject({ name: "spectrum_damage", unit: "fraction", better: "lower", length: 128 })
    expect(metrics.map((m) => m.name)).toEqual(["spectrum_damage", "spectrum_damage_layer0", "spectrum_damage_layer1"])
  })

  it("is large for random q and k", async () => {
    const model = queryKeyModel(withHook(), layers, (layer, B, T) => ({
      q: normals(B * H * T * hd, layer, "rq"),
      k: normals(B * H * T * hd, layer, "rk")
    }))
    const { result } = await spectrumDamage(model, valid, 128, { windows: 4 })
    expect(result.applicable).toBe(true)
    if (!result.applicable) return
    // white noise: about 1 - (4 * 2 + 2) / 128 off band
    expect(result.damage).toBeGreaterThan(0.8)
    expect(result.perSample).toBeGreaterThan(0.8)
    // and the noise floor says it is all content noise
    for (const l of result.layers) expect(l.noiseFloor!).toBeGreaterThan(0.8)
  })

  it("is ~0 for RoPE on constant vectors even when the content varies, once averaged over windows", async () => {
    // per-window random content (different in every window but constant in t): the content-averaged
    // signal is still a pure tone; only `perSample` would see per-window differences (none here either)
    const model = queryKeyModel(withHook(), 1, (layer, B, T) => {
      const make = (purpose: string) => {
        const x = new Float32Array(B * H * T * hd)
        const base = normals(B * H * hd, 99, purpose)
        for (let bh = 0; bh < B * H; bh++) for (let t = 0; t < T; t++) x.set(base.subarray(bh * hd, (bh + 1) * hd), (bh * T + t) * hd)
        return ropeRotate(x, B, H, T, hd, w)
      }
      return { q: make(`q${layer}`), k: make(`k${layer}`) }
    })
    const { result } = await spectrumDamage(model, valid, 96, { windows: 3 }) // not a power of two: Bluestein
    expect(result.applicable && result.damage).toBeLessThan(0.01)
  })

  it("is not applicable to non-rotary methods", async () => {
    const { result, metrics } = await spectrumDamage(uniformModel(8, fakeEmbedding({ name: "alibi", family: "bias" })), valid, 64)
    expect(result.applicable).toBe(false)
    expect(!result.applicable && result.reason).toMatch(/not a rotary-family method/)
    expect(metrics).toEqual([])
  })

  it("leaves no tensors behind", async () => {
    const model = queryKeyModel(withHook(), layers, (layer, B, T) => ({
      q: normals(B * H * T * hd, layer, "q"),
      k: normals(B * H * T * hd, layer, "k")
    }))
    const before = tf.memory().numTensors
    await spectrumDamage(model, valid, 32, { windows: 2 })
    expect(tf.memory().numTensors).toBe(before)
  })
})
