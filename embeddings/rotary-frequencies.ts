/**
 * Frequency grids of the rotary family and the inference-time extensions that rescale them
 * (docs/mechanisms.md states each definition). Plain numbers
 * (float64), no tensors: tables are built from these.
 */

/** RoPE's grid `w_k = b^(-2k/dim)`, `k = 0 .. dim/2 - 1` (RoFormer, Su et al. 2021, eq. 15). */
export const ropeFrequencies = (dim: number, base: number): Float64Array => {
  const out = new Float64Array(dim / 2)
  for (let k = 0; k < dim / 2; k++) out[k] = Math.pow(base, (-2 * k) / dim)
  return out
}

/** The floor of FoPE's clip: a frequency below `2*pi/L` cannot finish one period inside length L. */
export const floorFrequency = (length: number): number => (2 * Math.PI) / length

/**
 * FoPE's floor clip (FoPE paper, section 4.2 "clip the floor frequency"): of a descending grid, the
 * frequencies `>= 2*pi/L` are kept (a prefix, since the grid descends), the others dropped.
 */
export const floorClip = (grid: ArrayLike<number>, length: number): { kept: number[]; clipped: number[] } => {
  const floor = floorFrequency(length)
  const kept: number[] = []
  const clipped: number[] = []
  for (let k = 0; k < grid.length; k++) (grid[k]! >= floor ? kept : clipped).push(grid[k]!)
  return { kept, clipped }
}

/** Position Interpolation (Chen et al. 2023): `w' = w / s`. */
export const piFrequencies = (w: ArrayLike<number>, s: number): Float64Array => Float64Array.from(w, (x) => x / s)

/** NTK-aware scaling (bloc97, 2023): `b' = b * s^(d/(d-2))`. d = 32, s = 4 -> 43873.0. */
export const ntkBase = (base: number, dim: number, s: number): number => base * Math.pow(s, dim / (dim - 2))

/**
 * Dynamic NTK (emozilla, 2023; HF `LlamaDynamicNTKScalingRotaryEmbedding`): at current length `l > L`,
 * `b' = b * ((s*l/L) - (s-1))^(d/(d-2))`; `l <= L` keeps `b`. d = 32, L = 128, s = 4, l = 512 -> 154243.3.
 */
export const dynamicNtkBase = (base: number, dim: number, trainLength: number, s: number, length: number): number =>
  length <= trainLength ? base : base * Math.pow((s * length) / trainLength - (s - 1), dim / (dim - 2))

/** YaRN's correction dimension (Peng et al. 2023, eq. 21; `find_correction_dim`): the pair index whose
 *  frequency makes `r` rotations over L: `corr(r) = d*ln(L/(2*pi*r)) / (2*ln b)`. */
export const yarnCorrectionDim = (rotations: number, dim: number, base: number, trainLength: number): number =>
  (dim * Math.log(trainLength / (2 * Math.PI * rotations))) / (2 * Math.log(base))

/** YaRN's ramp bounds `lo = max(floor(corr(32)), 0)`, `hi = min(ceil(corr(1)), d-1)` (beta_fast 32, beta_slow 1). */
export const yarnRange = (dim: number, base: number, trainLength: number): { lo: number; hi: number } => ({
  lo: Math.max(Math.floor(yarnCorrectionDim(32, dim, base, trainLength)), 0),
  hi: Math.min(Math.ceil(yarnCorrectionDim(1, dim, base, trainLength)), dim - 1)
})

/** YaRN's attention temperature `mscale = 0.1*ln(s) + 1` (1 for s <= 1). s = 4 -> 1.138629. */
export const yarnMscale = (s: number): number => (s <= 1 ? 1 : 0.1 * Math.log(s) + 1)

/**
 * YaRN's "NTK-by-parts" frequencies: `ramp_k = clamp((k-lo)/(hi-lo), 0, 1)`, `mask = 1 - ramp`,
 * `w' = (w/s)*(1-mask) + w*mask`: high frequencies (k < lo) are kept, low ones (k > hi) interpolated.
 * `w[k]` must be the grid frequency of pair index k (zeros stay zero). As in the YaRN code, `hi == lo`
 * gets `hi += 0.001` to avoid a division by zero.
 */
export const yarnFrequencies = (w: ArrayLike<number>, s: number, dim: number, base: number, trainLength: number): Float64Array => {
  const { lo, hi } = yarnRange(dim, base, trainLength)
  const span = hi === lo ? 0.001 : hi - lo
  return Float64Array.from(w, (wk, k) => {
    const ramp = Math.min(Math.max((k - lo) / span, 0), 1)
    const mask = 1 - ramp
    return (wk / s) * (1 - mask) + wk * mask
  })
}

/** Llama 3.1's defaults for its rope scaling (Meta's release; `rope_scaling` of Llama 3.1 / 3.2). */
export const LLAMA3_DEFAULTS = { lowFreqFactor: 1, highFreqFactor: 4 } as const

/**
 * Llama 3 rope scaling (Meta, Llama 3.1; Hugging Face transformers `_compute_llama3_parameters`), with the original
 * context length L = the training length and the factor s. A pair's wavelength is `lambda = 2*pi/w`;
 * `lambda_hi = L/highFreqFactor`, `lambda_lo = L/lowFreqFactor`:
 *   - lambda < lambda_hi (many periods inside L): kept, `w' = w`;
 *   - lambda > lambda_lo (less than lowFreqFactor periods inside L): interpolated as PI, `w' = w/s`;
 *   - between: `g = (L/lambda - lowFreqFactor) / (highFreqFactor - lowFreqFactor)`, `w' = (1-g)*w/s + g*w`.
 * The ramp runs over the number of periods inside L (unlike YaRN's, which runs over the pair index). No attention
 * temperature (the reference returns an attention factor of 1). Zero frequencies stay zero (infinite wavelength).
 * Vector: d = 8, b = 10000, L = 16, s = 4, factors 1 and 4 -> w' = [2/pi, 0.025, 0.0025, 0.00025].
 */
export const llama3Frequencies = (
  w: ArrayLike<number>,
  s: number,
  trainLength: number,
  lowFreqFactor: number = LLAMA3_DEFAULTS.lowFreqFactor,
  highFreqFactor: number = LLAMA3_DEFAULTS.highFreqFactor
): Float64Array => {
  const lowWavelength = trainLength / lowFreqFactor
  const highWavelength = trainLength / highFreqFactor
  return Float64Array.from(w, (wk) => {
    const wavelength = (2 * Math.PI) / wk // Infinity for a zero frequency: interpolated, stays 0
    if (wavelength < highWavelength) return wk
    if (wavelength > lowWavelength) return wk / s
    const g = (trainLength / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
    return ((1 - g) * wk) / s + g * wk
  })
}
