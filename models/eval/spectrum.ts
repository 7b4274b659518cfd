/**
 * Spectrum damage of rotary-family models, after the FoPE paper (Hua et al. 2025,
 * arXiv 2412.17739, Sec. 3 "spectrum damage"): RoPE gives rotary pair k of q and k a single frequency w_k, so that
 * attention is a (non-uniform) Fourier transform over relative position; linear layers and activations outside
 * attention mix frequencies between dimensions (spectral leakage, harmonics), so in a trained model a pair
 * carries power at frequencies that are not its own, which breaks the periodic extension beyond the training
 * length. This module measures that leftover power directly.
 *
 * Exactly what is measured, per layer l, head h, rotary pair k (half-split layout: pair k = dims (k, k + hd/2)):
 *   1. Run the model on `windows` validation windows of `length` tokens (the perplexity windows) and capture
 *      q and k AFTER the position embedding (`onQueryKey`'s `post`), [B, H, T, hd].
 *   2. Form the complex signal z_b[t] = x_b[t, k] + i x_b[t, k + hd/2] over positions t = 0..T-1. RoPE rotates it:
 *      z'[t] = z[t] e^{+i w_k t}, so a position-independent input becomes a pure tone at w_k.
 *   3. Content-averaged signal m[t] = mean_b z_b[t]: averaging over windows of different text keeps what
 *      depends on position only (the positional carrier) and shrinks what depends on the tokens by 1/sqrt(B).
 *   4. Power spectrum P[n] = |DFT(hann[t] m[t])|^2 (periodic Hann window: a tone between two bins stays within
 *      +-2 bins instead of leaking over the whole axis).
 *   5. Own band: bins within `bandBins` (default 2) of +-f, f = w T / (2 pi) (circular distance), for every w in the
 *      pair's basis: embedding.describeSpectrum().pairBasis[k], default [pairFrequencies[k]]. RoPE: its own w_k.
 *      FoPE: all kept frequencies (each output pair is a Fourier series over them, by design), DC for padded pairs.
 *      So the measure is the same for both: power at frequencies the method does not put there.
 *      The mirror -f_k counts as own: a real rotation at w_k whose sin and cos coefficients differ (FoPE) puts
 *      power at both signs.
 *   6. damage = power outside the own band / total power.
 *   Summaries: per pair (over heads, q and k) and per layer (over heads and pairs, q and k; also q and k apart)
 *   the ratio of summed off-band power to summed power (power-weighted); the scalar = mean of the layers.
 *   Also reported: `perSample` (the same ratio on the mean of the windows' own power spectra, i.e. including
 *   token-content variation) and `noiseFloor` (the share of the content-averaged power expected from the content
 *   itself: sum_t hann^2 s_t^2 / B, s_t^2 the across-window variance; needs >= 2 windows). A damage near the
 *   noise floor means "no measurable positional leakage at this number of windows".
 * 0 = every pair is a pure tone at its own frequency (pure RoPE on position-independent inputs); white noise
 * gives about 1 - (4 bandBins + 2) / T. Non-rotary methods have no per-pair frequency: not applicable.
 */
import * as tf from "@tensorflow/tfjs"
import { DEFAULT_MEMORY_BUDGET_BYTES, evalBatchSize } from "./batching.js"
import { hannWindow, powerSpectrum } from "./fft.js"
import type { MetricRecord } from "./metrics.js"
import { releaseEmbedding, resolveEmbedding, type EmbeddingChoice, type EvaluableModel } from "./model.js"
import { windowStarts, yieldToEventLoop, type RunControl } from "./windows.js"

export interface SpectrumOptions extends RunControl {
  /** validation windows averaged over (default 16) */
  readonly windows?: number
  /** half-width of the own band, in DFT bins (default 2: the Hann main lobe) */
  readonly bandBins?: number
  readonly batchSize?: number
  readonly embedding?: EmbeddingChoice
  readonly memoryBudgetBytes?: number
}

export interface PairDamage {
  readonly pair: number
  /** w_k, radians per position */
  readonly frequency: number
  /** f_k = w_k T / 2 pi */
  readonly bin: number
  readonly damage: number
  readonly q: number
  readonly k: number
  readonly perSample: number
}

export interface LayerDamage {
  readonly layer: number
  readonly damage: number
  readonly q: number
  readonly k: number
  readonly perSample: number
  /** null with a single window */
  readonly noiseFloor: number | null
  readonly pairs: PairDamage[]
}

export type SpectrumDamage =
  | {
      readonly applicable: true
      readonly length: number
      readonly windows: number
      readonly bandBins: number
      readonly embedding: string
      /** mean over layers of the layer damage */
      readonly damage: number
      /** = damage (the one scalar) */
      readonly summary: number
      /** layer damage by layer */
      readonly perLayer: number[]
      readonly perSample: number
      readonly layers: LayerDamage[]
    }
  | { readonly applicable: false; readonly length: number; readonly reason: string }

/** Circular distance on a DFT axis of n bins. */
const circularDistance = (a: number, b: number, n: number): number => {
  const d = (((a - b) % n) + n) % n
  return Math.min(d, n - d)
}

/** true for the bins within `band` of +-f (the pair's own frequency and its mirror). */
/** Bins in any of the masks. */
export const unionMask = (masks: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(masks[0]?.length ?? 0)
  for (const m of masks) for (let n = 0; n < m.length; n++) out[n] = out[n]! | m[n]!
  return out
}

export const ownBandMask = (T: number, frequency: number, band: number): Uint8Array => {
  const f = (frequency * T) / (2 * Math.PI)
  const mask = new Uint8Array(T)
  for (let n = 0; n < T; n++) mask[n] = circularDistance(n, f, T) <= band || circularDistance(n, -f, T) <= band ? 1 : 0
  return mask
}

/** Sums over windows, for one layer x {q, k} x head x pair: sum z, sum |z|^2 per position, sum of the windows' power spectra. */
class Accumulator {
  readonly sumRe: Float64Array
  readonly sumIm: Float64Array
  readonly sumSq: Float64Array
  readonly sampleSpectrum: Float64Array
  count = 0
  constructor(readonly T: number) {
    this.sumRe = new Float64Array(T)
    this.sumIm = new Float64Array(T)
    this.sumSq = new Float64Array(T)
    this.sampleSpectrum = new Float64Array(T)
  }
}

interface Power {
  off: number
  total: number
  sampleOff: number
  sampleTotal: number
  noise: number
}

const ratio = (off: number, total: number): number => (total > 0 ? off / total : 0)

export const spectrumMetrics = (result: SpectrumDamage): MetricRecord[] =>
  result.applicable
    ? [
        { name: "spectrum_damage", value: result.damage, unit: "fraction", better: "lower", length: result.length },
        ...result.layers.map((l) => ({
          name: `spectrum_damage_layer${l.layer}`,
          value: l.damage,
          unit: "fraction",
          better: "lower" as const,
          length: result.length
        }))
      ]
    : []

export interface SpectrumResult {
  readonly result: SpectrumDamage
  readonly metrics: MetricRecord[]
}

export const spectrumDamage = async (
  model: EvaluableModel,
  valid: Int32Array,
  length: number,
  options: SpectrumOptions = {}
): Promise<SpectrumResult> => {
  const done = (result: SpectrumDamage): SpectrumResult => ({ result, metrics: spectrumMetrics(result) })
  const resolved = resolveEmbedding(model, options.embedding, length)
  if ("reason" in resolved) return done({ applicable: false, length, reason: resolved.reason })
  try {
    const embedding = resolved.embedding
    if (embedding.family !== "rotary" || !embedding.queryKey) {
      return done({
        applicable: false,
        length,
        reason: `"${embedding.name}" is not a rotary-family method (family ${embedding.family}): q and k carry no per-pair frequency`
      })
    }
    if (embedding.maxLength !== undefined && length > embedding.maxLength) {
      return done({ applicable: false, length, reason: `"${embedding.name}" has values only up to length ${embedding.maxLength}` })
    }
    const spectrum = embedding.describeSpectrum()
    const frequencies = spectrum.pairFrequencies
    // each pair's own band: every frequency the method puts into it (FoPE: its whole Fourier basis)
    const basis = spectrum.pairBasis ?? frequencies.map((w) => [w])
    const hd = embedding.shape.headDim
    const P = hd / 2
    if (frequencies.length !== P) {
      return done({
        applicable: false,
        length,
        reason: `"${embedding.name}".describeSpectrum() gives ${frequencies.length} pair frequencies for head dim ${hd} (expected ${P})`
      })
    }
    const starts = windowStarts(valid.length, length, { maxWindows: options.windows ?? 16 })
    if (starts.length === 0)
      return done({ applicable: false, length, reason: `the validation stream holds no window of ${length + 1} tokens` })
    const band = options.bandBins ?? 2
    const T = length
    const H = model.config.heads
    const L = model.config.layers
    const hann = hannWindow(T)
    // acc[layer][0 = q | 1 = k][h * P + p]
    const acc: Accumulator[][][] = Array.from({ length: L }, () =>
      [0, 1].map(() => Array.from({ length: H * P }, () => new Accumulator(T)))
    )
    const re = new Float64Array(T)
    const im = new Float64Array(T)
    const capture = (layer: number, tensor: 0 | 1, x: tf.Tensor4D): void => {
      const [B, Hx, Tx, hdx] = x.shape // [B, H, T, hd]
      if (Hx !== H || Tx !== T || hdx !== hd) throw new Error(`spectrum: onQueryKey gave shape ${x.shape}, expected [B, ${H}, ${T}, ${hd}]`)
      const v = x.dataSync()
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          const base = (b * H + h) * T * hd
          for (let p = 0; p < P; p++) {
            const a = acc[layer]![tensor]![h * P + p]!
            for (let t = 0; t < T; t++) {
              const zr = v[base + t * hd + p]!
              const zi = v[base + t * hd + p + P]!
              a.sumRe[t]! += zr
              a.sumIm[t]! += zi
              a.sumSq[t]! += zr * zr + zi * zi
              re[t] = hann[t]! * zr
              im[t] = hann[t]! * zi
            }
            const s = powerSpectrum(re, im)
            for (let n = 0; n < T; n++) a.sampleSpectrum[n]! += s[n]!
            a.count++
          }
        }
      }
    }
    const batchSize = evalBatchSize(model.config, T, options.batchSize ?? 8, options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES)
    for (let first = 0; first < starts.length; first += batchSize) {
      options.signal?.throwIfAborted()
      const batch = starts.slice(first, first + batchSize)
      const ids = new Int32Array(batch.length * T)
      batch.forEach((start, b) => ids.set(valid.subarray(start, start + T), b * T))
      tf.tidy(() => {
        model.logits(tf.tensor2d(ids, [batch.length, T], "int32"), {
          embedding,
          onQueryKey: (layer, _pre, post) => {
            capture(layer, 0, post.q)
            capture(layer, 1, post.k)
          }
        })
      })
      options.onProgress?.(Math.min(first + batchSize, starts.length), starts.length)
      await yieldToEventLoop()
    }

    const B = starts.length
    const masks = basis.map((ws) => unionMask(ws.map((w) => ownBandMask(T, w, band))))
    const powerOf = (a: Accumulator, mask: Uint8Array): Power => {
      for (let t = 0; t < T; t++) {
        re[t] = (hann[t]! * a.sumRe[t]!) / B
        im[t] = (hann[t]! * a.sumIm[t]!) / B
      }
      const s = powerSpectrum(re, im)
      let off = 0
      let total = 0
      let sampleOff = 0
      let sampleTotal = 0
      for (let n = 0; n < T; n++) {
        total += s[n]!
        sampleTotal += a.sampleSpectrum[n]!
        if (!mask[n]) {
          off += s[n]!
          sampleOff += a.sampleSpectrum[n]!
        }
      }
      // content noise left in the mean: sum_t hann^2 s_t^2 / B, times T (Parseval for the unnormalised DFT)
      let noise = 0
      if (B > 1) {
        for (let t = 0; t < T; t++) {
          const meanSq = (a.sumRe[t]! / B) ** 2 + (a.sumIm[t]! / B) ** 2
          const variance = Math.max(0, (a.sumSq[t]! - B * meanSq) / (B - 1))
          noise += hann[t]! * hann[t]! * variance
        }
        noise = (noise * T) / B
      }
      return { off, total, sampleOff, sampleTotal, noise }
    }

    const layers: LayerDamage[] = []
    for (let l = 0; l < L; l++) {
      const sums = { off: [0, 0], total: [0, 0], sampleOff: 0, sampleTotal: 0, noise: 0 }
      const pairs: PairDamage[] = []
      for (let p = 0; p < P; p++) {
        const pq = { off: [0, 0], total: [0, 0], sampleOff: 0, sampleTotal: 0 }
        for (const tensor of [0, 1] as const) {
          for (let h = 0; h < H; h++) {
            const pw = powerOf(acc[l]![tensor]![h * P + p]!, masks[p]!)
            pq.off[tensor]! += pw.off
            pq.total[tensor]! += pw.total
            pq.sampleOff += pw.sampleOff
            pq.sampleTotal += pw.sampleTotal
            sums.noise += pw.noise
          }
          sums.off[tensor]! += pq.off[tensor]!
          sums.total[tensor]! += pq.total[tensor]!
        }
        sums.sampleOff += pq.sampleOff
        sums.sampleTotal += pq.sampleTotal
        pairs.push({
          pair: p,
          frequency: frequencies[p]!,
          bin: (frequencies[p]! * T) / (2 * Math.PI),
          damage: ratio(pq.off[0]! + pq.off[1]!, pq.total[0]! + pq.total[1]!),
          q: ratio(pq.off[0]!, pq.total[0]!),
          k: ratio(pq.off[1]!, pq.total[1]!),
          perSample: ratio(pq.sampleOff, pq.sampleTotal)
        })
      }
      const total = sums.total[0]! + sums.total[1]!
      layers.push({
        layer: l,
        damage: ratio(sums.off[0]! + sums.off[1]!, total),
        q: ratio(sums.off[0]!, sums.total[0]!),
        k: ratio(sums.off[1]!, sums.total[1]!),
        perSample: ratio(sums.sampleOff, sums.sampleTotal),
        noiseFloor: B > 1 ? Math.min(1, ratio(sums.noise, total)) : null,
        pairs
      })
    }
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length
    const damage = mean(layers.map((l) => l.damage))
    return done({
      applicable: true,
      length,
      windows: B,
      bandBins: band,
      embedding: embedding.name,
      damage,
      summary: damage,
      perLayer: layers.map((l) => l.damage),
      perSample: mean(layers.map((l) => l.perSample)),
      layers
    })
  } finally {
    releaseEmbedding(resolved)
  }
}
