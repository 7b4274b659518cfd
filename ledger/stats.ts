/**
 * The statistics `check` and `diff` need, written out (small, no dependency) and tested against values from
 * scipy 1.17 in test/ledger/stats.test.ts.
 *
 * Conventions: `alternative` is about the first sample (or the paired differences):
 *   "greater" = x tends to be larger than y (mean difference > 0), "less" the opposite, "two-sided" either.
 */

export type Alternative = "two-sided" | "greater" | "less"

export interface TestResult {
  readonly test: "paired-t" | "sign-flip" | "welch-t" | "mann-whitney-exact" | "mann-whitney-normal"
  readonly statistic: number
  readonly pValue: number
  readonly df?: number
}

// ---------------------------------------------------------------- special functions

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7
]

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; ~15 significant digits). */
export const logGamma = (x: number): number => {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x) // reflection
  const z = x - 1
  let a = LANCZOS[0]
  const t = z + 7.5
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i)
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a)
}

/** Continued fraction for the incomplete beta function (modified Lentz; Numerical Recipes 6.4). */
const betaContinuedFraction = (x: number, a: number, b: number): number => {
  const tiny = 1e-300
  let c = 1
  let d = 1 - ((a + b) * x) / (a + 1)
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 1e-15) break
  }
  return h
}

/** Regularised incomplete beta I_x(a, b). */
export const incompleteBeta = (x: number, a: number, b: number): number => {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x))
  // the continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) otherwise
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(x, a, b)) / a : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b
}

/** Regularised lower incomplete gamma P(a, x) (series for x < a + 1, continued fraction otherwise). */
export const incompleteGammaP = (a: number, x: number): number => {
  if (x <= 0) return 0
  const lnFront = -x + a * Math.log(x) - logGamma(a)
  if (x < a + 1) {
    let sum = 1 / a
    let term = sum
    for (let n = 1; n < 500; n++) {
      term *= x / (a + n)
      sum += term
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break
    }
    return sum * Math.exp(lnFront)
  }
  const tiny = 1e-300
  let b = x + 1 - a
  let c = 1 / tiny
  let d = 1 / b
  let h = d
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < tiny) d = tiny
    c = b + an / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  return 1 - Math.exp(lnFront) * h
}

/** Standard normal CDF Φ(z) = (1 + erf(z/√2)) / 2, erf(u) = P(1/2, u²). */
export const normalCdf = (z: number): number => {
  if (z === Infinity) return 1
  if (z === -Infinity) return 0
  const half = 0.5 * incompleteGammaP(0.5, (z * z) / 2)
  return z >= 0 ? 0.5 + half : 0.5 - half
}

/** Student's t CDF with `df` degrees of freedom: P(T <= t) = 1 - I_{df/(df+t²)}(df/2, 1/2) / 2 for t > 0. */
export const studentTCdf = (t: number, df: number): number => {
  if (t === Infinity) return 1
  if (t === -Infinity) return 0
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5)
  return t > 0 ? 1 - tail : tail
}

// ---------------------------------------------------------------- helpers

export const mean = (xs: ReadonlyArray<number>): number => xs.reduce((s, x) => s + x, 0) / xs.length

/** Sample variance (n - 1 denominator). */
export const variance = (xs: ReadonlyArray<number>): number => {
  const m = mean(xs)
  return xs.reduce((s, x) => s + (x - m) * (x - m), 0) / (xs.length - 1)
}

const pFromT = (t: number, df: number, alternative: Alternative): number => {
  if (alternative === "greater") return 1 - studentTCdf(t, df)
  if (alternative === "less") return studentTCdf(t, df)
  return Math.min(1, 2 * (1 - studentTCdf(Math.abs(t), df)))
}

// ---------------------------------------------------------------- tests

/** Paired t-test on differences d_i = x_i - y_i (n >= 2). Zero spread: p = 0 or 1 by the sign of the mean. */
export const pairedTTest = (diffs: ReadonlyArray<number>, alternative: Alternative = "two-sided"): TestResult => {
  const n = diffs.length
  if (n < 2) throw new RangeError(`a paired t-test needs at least 2 pairs, got ${n}`)
  const m = mean(diffs)
  const se = Math.sqrt(variance(diffs) / n)
  const t = se === 0 ? (m === 0 ? 0 : m > 0 ? Infinity : -Infinity) : m / se
  return { test: "paired-t", statistic: t, df: n - 1, pValue: se === 0 && m === 0 ? 1 : pFromT(t, n - 1, alternative) }
}

/** Welch's unequal-variance t-test of x against y (each n >= 2). */
export const welchTTest = (x: ReadonlyArray<number>, y: ReadonlyArray<number>, alternative: Alternative = "two-sided"): TestResult => {
  if (x.length < 2 || y.length < 2) throw new RangeError("Welch's t-test needs at least 2 values per sample")
  const vx = variance(x) / x.length
  const vy = variance(y) / y.length
  const diff = mean(x) - mean(y)
  const se = Math.sqrt(vx + vy)
  if (se === 0) {
    const t = diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity
    return { test: "welch-t", statistic: t, df: x.length + y.length - 2, pValue: diff === 0 ? 1 : pFromT(t, 1, alternative) }
  }
  // Welch–Satterthwaite degrees of freedom
  const df = (vx + vy) ** 2 / (vx ** 2 / (x.length - 1) + vy ** 2 / (y.length - 1))
  const t = diff / se
  return { test: "welch-t", statistic: t, df, pValue: pFromT(t, df, alternative) }
}

/**
 * Exact sign-flip permutation test on paired differences: under H0 each difference is as likely to have
 * either sign, so the 2^n sign assignments are equally likely; p = share of them whose sum is at least as
 * extreme as the observed sum. Distribution-free; its smallest one-sided p is 2^-n (n >= 5 to reach 0.05).
 */
export const signFlipTest = (diffs: ReadonlyArray<number>, alternative: Alternative = "two-sided"): TestResult => {
  const n = diffs.length
  if (n < 1 || n > 24) throw new RangeError(`the exact sign-flip test enumerates 2^n assignments; n must be 1..24, got ${n}`)
  const observed = diffs.reduce((s, d) => s + d, 0)
  const abs = diffs.map(Math.abs)
  const total = 2 ** n
  // tolerance for float ties between assignments that are equal in exact arithmetic
  const eps = 1e-12 * abs.reduce((s, d) => s + d, 0)
  let extreme = 0
  for (let mask = 0; mask < total; mask++) {
    let s = 0
    for (let i = 0; i < n; i++) s += mask & (1 << i) ? -abs[i] : abs[i]
    if (
      alternative === "greater"
        ? s >= observed - eps
        : alternative === "less"
          ? s <= observed + eps
          : Math.abs(s) >= Math.abs(observed) - eps
    ) {
      extreme++
    }
  }
  return { test: "sign-flip", statistic: observed, pValue: extreme / total }
}

/** Midranks of the pooled sample (ties share the mean of their ranks). */
const midranks = (values: ReadonlyArray<number>): { ranks: number[]; tieGroups: number[] } => {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0])
  const ranks = new Array<number>(values.length)
  const tieGroups: number[] = []
  for (let i = 0; i < order.length; ) {
    let j = i
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++
    const rank = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) ranks[order[k][1]] = rank
    if (j > i) tieGroups.push(j - i + 1)
    i = j + 1
  }
  return { ranks, tieGroups }
}

/** Number of arrangements giving each U for samples of sizes m, n without ties (Mann & Whitney's recursion). */
const exactUCounts = (m: number, n: number): number[] => {
  // f[i][j][u]: arrangements of i x's and j y's with U = u, built up one element at a time
  let prev: number[][] = []
  for (let j = 0; j <= n; j++) prev.push([1]) // i = 0: U = 0, one arrangement
  for (let i = 1; i <= m; i++) {
    const cur: number[][] = [[1]] // j = 0
    for (let j = 1; j <= n; j++) {
      const size = i * j + 1
      const counts = new Array<number>(size).fill(0)
      // the largest element is an x (adds j to U) or a y (adds 0)
      const a = prev[j]
      for (let u = 0; u < a.length; u++) counts[u + j] += a[u]
      const b = cur[j - 1]
      for (let u = 0; u < b.length; u++) counts[u] += b[u]
      cur.push(counts)
    }
    prev = cur
  }
  return prev[n]
}

/**
 * Mann-Whitney U test of x against y. U = number of pairs (x_i, y_j) with x_i > y_j (ties count 1/2).
 * Exact null distribution when there are no ties and both samples are small (m + n <= 40), else the normal
 * approximation with tie correction and continuity correction (as scipy's `asymptotic` method).
 */
export const mannWhitneyU = (x: ReadonlyArray<number>, y: ReadonlyArray<number>, alternative: Alternative = "two-sided"): TestResult => {
  const m = x.length
  const n = y.length
  if (m < 1 || n < 1) throw new RangeError("Mann-Whitney U needs at least one value in each sample")
  const { ranks, tieGroups } = midranks([...x, ...y])
  const rankSumX = ranks.slice(0, m).reduce((s, r) => s + r, 0)
  const u = rankSumX - (m * (m + 1)) / 2
  if (tieGroups.length === 0 && m + n <= 40) {
    const counts = exactUCounts(m, n)
    const total = counts.reduce((s, c) => s + c, 0)
    const cdf = (k: number) => counts.slice(0, Math.floor(k) + 1).reduce((s, c) => s + c, 0) / total // P(U <= k)
    const sf = (k: number) => counts.slice(Math.ceil(k)).reduce((s, c) => s + c, 0) / total // P(U >= k)
    const p = alternative === "greater" ? sf(u) : alternative === "less" ? cdf(u) : Math.min(1, 2 * Math.min(cdf(u), sf(u)))
    return { test: "mann-whitney-exact", statistic: u, pValue: p }
  }
  const N = m + n
  const tieTerm = tieGroups.reduce((s, t) => s + (t ** 3 - t), 0)
  const sd = Math.sqrt(((m * n) / 12) * (N + 1 - tieTerm / (N * (N - 1))))
  const mu = (m * n) / 2
  if (sd === 0) return { test: "mann-whitney-normal", statistic: u, pValue: 1 }
  const zGreater = (u - mu - 0.5) / sd
  const zLess = (u - mu + 0.5) / sd
  const p =
    alternative === "greater"
      ? 1 - normalCdf(zGreater)
      : alternative === "less"
        ? normalCdf(zLess)
        : Math.min(1, 2 * (1 - normalCdf((Math.abs(u - mu) - 0.5) / sd)))
  return { test: "mann-whitney-normal", statistic: u, pValue: p }
}

/**
 * Holm's step-down adjustment (Holm 1979): sort p ascending, p_(i) * (m - i + 1), running maximum, cap at 1.
 * Controls the family-wise error rate across all the comparisons it is given. Returns adjusted p in input order.
 */
export const holmAdjust = (pValues: ReadonlyArray<number>): number[] => {
  const m = pValues.length
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0])
  const adjusted = new Array<number>(m)
  let running = 0
  order.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, p * (m - k)))
    adjusted[i] = running
  })
  return adjusted
}
