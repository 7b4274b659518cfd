/** Summary statistics over seeds for one table cell or one plotted point. */

export interface Summary {
  readonly n: number
  readonly mean: number
  /** sample standard deviation (n - 1 in the denominator); null for a single value */
  readonly sd: number | null
  readonly min: number
  readonly max: number
  /** how many of the values are infinite or NaN (a diverged evaluation) */
  readonly nonFinite: number
}

export const summarize = (values: ReadonlyArray<number>): Summary | null => {
  const n = values.length
  if (n === 0) return null
  const mean = values.reduce((a, b) => a + b, 0) / n
  const sd = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : null
  return { n, mean, sd, min: Math.min(...values), max: Math.max(...values), nonFinite: values.filter((v) => !Number.isFinite(v)).length }
}
