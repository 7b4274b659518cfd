/**
 * Discrete Fourier transform of complex signals, any length: radix-2 Cooley-Tukey for powers of two,
 * Bluestein's chirp-z (via a power-of-two convolution) otherwise. Convention: X[n] = sum_t x[t] e^{-2 pi i n t / N},
 * so a signal e^{+i w t} peaks at bin n = w N / (2 pi).
 */

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0

/** In-place iterative radix-2 FFT; `inverse` uses e^{+...} and does not scale. */
const radix2 = (re: Float64Array, im: Float64Array, inverse: boolean): void => {
  const n = re.length
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1
    for (; j & bit; bit >>= 1) j ^= bit
    j ^= bit
    if (i < j) {
      let t = re[i]!
      re[i] = re[j]!
      re[j] = t
      t = im[i]!
      im[i] = im[j]!
      im[j] = t
    }
  }
  const sign = inverse ? 1 : -1
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1
    const step = (sign * 2 * Math.PI) / size
    for (let k = 0; k < half; k++) {
      const wr = Math.cos(step * k)
      const wi = Math.sin(step * k)
      for (let start = 0; start < n; start += size) {
        const a = start + k
        const b = a + half
        const xr = re[b]! * wr - im[b]! * wi
        const xi = re[b]! * wi + im[b]! * wr
        re[b] = re[a]! - xr
        im[b] = im[a]! - xi
        re[a]! += xr
        im[a]! += xi
      }
    }
  }
}

/** DFT of the complex signal (re, im); returns new arrays. */
export const dft = (re: ArrayLike<number>, im: ArrayLike<number>): { re: Float64Array; im: Float64Array } => {
  const n = re.length
  if (im.length !== n) throw new RangeError(`dft: re and im differ in length (${n} vs ${im.length})`)
  if (isPowerOfTwo(n)) {
    const r = Float64Array.from(re)
    const i = Float64Array.from(im)
    radix2(r, i, false)
    return { re: r, im: i }
  }
  // Bluestein: X[k] = conj(c[k]) * sum_t (x[t] conj(c[t])) c[k - t], c[m] = e^{i pi m^2 / n}
  let m = 1
  while (m < 2 * n - 1) m <<= 1
  const cr = new Float64Array(n)
  const ci = new Float64Array(n)
  for (let t = 0; t < n; t++) {
    const angle = (Math.PI * ((t * t) % (2 * n))) / n // t^2 mod 2n keeps the angle exact for large t
    cr[t] = Math.cos(angle)
    ci[t] = Math.sin(angle)
  }
  const ar = new Float64Array(m)
  const ai = new Float64Array(m)
  for (let t = 0; t < n; t++) {
    // x[t] * conj(c[t])
    ar[t] = re[t]! * cr[t]! + im[t]! * ci[t]!
    ai[t] = im[t]! * cr[t]! - re[t]! * ci[t]!
  }
  const br = new Float64Array(m)
  const bi = new Float64Array(m)
  br[0] = cr[0]!
  bi[0] = ci[0]!
  for (let t = 1; t < n; t++) {
    br[t] = br[m - t] = cr[t]!
    bi[t] = bi[m - t] = ci[t]!
  }
  radix2(ar, ai, false)
  radix2(br, bi, false)
  for (let k = 0; k < m; k++) {
    const r = ar[k]! * br[k]! - ai[k]! * bi[k]!
    const i = ar[k]! * bi[k]! + ai[k]! * br[k]!
    ar[k] = r
    ai[k] = i
  }
  radix2(ar, ai, true)
  const outR = new Float64Array(n)
  const outI = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    const r = ar[k]! / m
    const i = ai[k]! / m
    // times conj(c[k])
    outR[k] = r * cr[k]! + i * ci[k]!
    outI[k] = i * cr[k]! - r * ci[k]!
  }
  return { re: outR, im: outI }
}

/** |X[n]|^2 of the DFT of (re, im). */
export const powerSpectrum = (re: ArrayLike<number>, im: ArrayLike<number>): Float64Array => {
  const X = dft(re, im)
  const p = new Float64Array(re.length)
  for (let k = 0; k < p.length; k++) p[k] = X.re[k]! * X.re[k]! + X.im[k]! * X.im[k]!
  return p
}

/** Periodic Hann window of length n: w[t] = 0.5 - 0.5 cos(2 pi t / n). Its main lobe spans +-2 bins. */
export const hannWindow = (n: number): Float64Array => {
  const w = new Float64Array(n)
  for (let t = 0; t < n; t++) w[t] = 0.5 - 0.5 * Math.cos((2 * Math.PI * t) / n)
  return w
}
