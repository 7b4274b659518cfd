/**
 * Spectrum damage compares RoPE and FoPE on the same footing: a pair's own band is every frequency the method
 * itself puts there (FoPE: its Fourier basis of kept frequencies). So FoPE applied to position-independent vectors
 * is ~0 damage, like RoPE, while a measure that ignored FoPE's basis would call its own design "damage".
 */
import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { createEmbedding } from "../../../embeddings/registry.js"
import { spectrumDamage } from "../../../models/eval/spectrum.js"
import { normals, queryKeyModel, useCpu } from "./fake-models.js"

beforeAll(useCpu)

describe("spectrum damage of FoPE", () => {
  const H = 2
  const hd = 32
  const make = (embedding: ReturnType<typeof createEmbedding>) =>
    queryKeyModel(embedding, 1, (layer, B, T) => {
      // one random vector per (window, head), the same at every position, then FoPE's own queryKey hook
      const constant = (purpose: string) => {
        const base = normals(B * H * hd, layer, purpose)
        const x = new Float32Array(B * H * T * hd)
        for (let bh = 0; bh < B * H; bh++) for (let t = 0; t < T; t++) x.set(base.subarray(bh * hd, (bh + 1) * hd), (bh * T + t) * hd)
        return tf.tensor4d(x, [B, H, T, hd])
      }
      const [q, k] = tf.tidy(() => [...embedding.queryKey!(constant("q"), constant("k"), layer)] as tf.Tensor4D[]) as tf.Tensor4D[]
      const out = { q: q.dataSync() as Float32Array, k: k.dataSync() as Float32Array }
      tf.dispose([q, k])
      return out
    })

  it("is ~0 for FoPE applied to position-independent vectors, with its basis as the own band", async () => {
    const fope = createEmbedding(
      { name: "fope", params: { sigma: 0.6 } },
      { dModel: H * hd, heads: H, headDim: hd, layers: 1, trainLength: 64 },
      1
    )
    const spectrum = fope.describeSpectrum()
    expect(spectrum.pairBasis?.[0]).toEqual(spectrum.kept)
    const { result } = await spectrumDamage(
      make(fope),
      Int32Array.from({ length: 2000 }, (_, i) => i % 8),
      128,
      { windows: 2 }
    )
    expect(result.applicable).toBe(true)
    if (result.applicable) expect(result.damage).toBeLessThan(0.005)

    // the same signal judged against each pair's single base frequency (as if FoPE were RoPE) shows off-band power
    const asRope = Object.assign(Object.create(fope) as typeof fope, { describeSpectrum: () => ({ ...spectrum, pairBasis: undefined }) })
    const { result: naive } = await spectrumDamage(
      make(asRope),
      Int32Array.from({ length: 2000 }, (_, i) => i % 8),
      128,
      { windows: 2 }
    )
    if (naive.applicable && result.applicable) expect(naive.damage).toBeGreaterThan(10 * result.damage)
    fope.dispose()
  })
})
