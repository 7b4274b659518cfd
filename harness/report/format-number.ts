/** Number formatting for report tables and axis labels. */
import type { Summary } from "./stats.js"

/** Shown for a value that was not measured, or a length that does not apply. */
export const MISSING = "-"

/**
 * `sig` significant digits, keeping trailing zeros so a column reads evenly ("31.20", "1.000"); integers too large
 * for `sig` digits are written whole ("12346"), and very large or tiny magnitudes in exponent form.
 */
export const formatSignificant = (x: number, sig = 4): string => {
  if (Number.isNaN(x)) return "NaN"
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf"
  if (x === 0) return "0"
  const a = Math.abs(x)
  if (a >= 1e6 || a < 1e-3) return x.toExponential(sig - 1)
  if (a >= 10 ** sig) return String(Number(x.toPrecision(sig))) // 47065 at 2 digits: "47000"
  return x.toPrecision(sig)
}

/**
 * One table cell that aggregates jobs: "mean ± sd (n=k)" over k seeds; a single job is shown as its value alone
 * (it aggregates nothing), and no jobs as "-".
 */
export const formatSummary = (s: Summary | null): string => {
  if (s === null || s.n === 0) return MISSING
  if (s.n === 1) return formatSignificant(s.mean)
  // an infinite (diverged) value makes the mean infinite and the sd undefined: say so instead of "inf ± NaN"
  if (!Number.isFinite(s.mean)) return `${formatSignificant(s.mean)} (n=${s.n}, ${s.nonFinite} not finite)`
  const mean = formatSignificant(s.mean)
  const sd = s.sd ?? 0
  // the sd in the mean's notation, so "4.163e+6 ± 4.7e+4" rather than "4.163e+6 ± 47000"
  const sdText = mean.includes("e") && sd !== 0 ? sd.toExponential(1) : formatSignificant(sd, 2)
  return `${mean} ± ${sdText} (n=${s.n})`
}

/**
 * Axis tick labels: short, no trailing zeros ("0.5", "20", "1e5"). `exponentFrom`: magnitudes from which to
 * write "1e3" rather than "1000"; an axis reaching 1e5 passes 1000 so that its labels read alike.
 */
export const formatTick = (x: number, exponentFrom = 1e5): string => {
  if (x === 0) return "0"
  const a = Math.abs(x)
  if (a >= exponentFrom || a < 1e-3)
    return x.toExponential(Number.isInteger(x / 10 ** Math.floor(Math.log10(a))) ? 0 : 1).replace("e+", "e")
  return String(Number(x.toPrecision(4)))
}

/** Labels for all ticks of one axis, in one style. */
export const formatTicks = (ticks: ReadonlyArray<number>): string[] => {
  const exponentFrom = ticks.some((t) => Math.abs(t) >= 1e5) ? 1000 : 1e5
  return ticks.map((t) => formatTick(t, exponentFrom))
}
