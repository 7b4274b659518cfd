/**
 * Axis domains and ticks for the three axis kinds the report plots use: linear, log2 (evaluation lengths, which
 * double), log10 (perplexity, which grows by orders of magnitude past the training length). An axis maps a value
 * to a fraction of the plot size, 0 at the domain's start and 1 at its end.
 */

export type AxisKind = "linear" | "log2" | "log10"

export interface Axis {
  readonly kind: AxisKind
  readonly domain: readonly [number, number]
  /** ascending, all inside the domain */
  readonly ticks: ReadonlyArray<number>
  readonly fraction: (v: number) => number
}

/** Removes binary floating noise from computed tick values (3 * 0.1 = 0.30000000000000004). */
const clean = (v: number): number => Number(v.toPrecision(12))

/**
 * A "nice" step (1, 2, 2.5 or 5 times a power of ten) whose interval count over `span` is closest to `target`
 * (span 256, target 5: step 50, not 100).
 */
export const niceStep = (span: number, target: number): number => {
  const raw = span / Math.max(1, target)
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  let best = magnitude
  for (const m of [1, 2, 2.5, 5, 10]) {
    const step = m * magnitude
    if (Math.abs(span / step - target) < Math.abs(span / best - target)) best = step
  }
  return best
}

/** Multiples of `step` inside [lo, hi]. */
const stepTicks = (lo: number, hi: number, step: number): number[] => {
  const first = Math.ceil(lo / step - 1e-9) * step
  const ticks: number[] = []
  for (let i = 0; i <= 100; i++) {
    const v = clean(first + i * step)
    if (v > hi + step * 1e-9) break
    ticks.push(v)
  }
  return ticks
}

export const linearTicks = (lo: number, hi: number, target = 5): number[] => (hi > lo ? stepTicks(lo, hi, niceStep(hi - lo, target)) : [lo])

/**
 * The data range widened to whole tick steps, so the first and last ticks sit at the plot's edges; returns the
 * step too, since the ticks must use that same step.
 */
export const linearDomain = (lo: number, hi: number, target = 5): { domain: [number, number]; step: number } => {
  if (lo === hi) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1
    lo -= d
    hi += d
  }
  const step = niceStep(hi - lo, target)
  return { domain: [clean(Math.floor(lo / step + 1e-9) * step), clean(Math.ceil(hi / step - 1e-9) * step)], step }
}

/** Keeps at most `max` ticks, every k-th, starting from the first. */
const thin = (ticks: number[], max: number): number[] => {
  if (ticks.length <= max) return ticks
  const every = Math.ceil(ticks.length / max)
  return ticks.filter((_, i) => i % every === 0)
}

const mantissaTicks = (lo: number, hi: number, mantissas: ReadonlyArray<number>): number[] => {
  const ticks: number[] = []
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of mantissas) {
      const v = clean(m * 10 ** k)
      if (v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12)) ticks.push(v)
    }
  }
  return ticks
}

/** From sparse to dense: decades only, then 1-2-5, then every integer mantissa. */
const LOG10_MANTISSAS: ReadonlyArray<ReadonlyArray<number>> = [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]

/**
 * Ticks for a log10 axis over [lo, hi] (lo > 0): the sparsest mantissa set that gives at least 4 ticks; a range
 * too narrow for even the densest (say 20..24) falls back to linear ticks, still placed on the log axis.
 */
export const log10Ticks = (lo: number, hi: number): number[] => {
  if (!(lo > 0) || !(hi > lo)) return lo > 0 ? [lo] : []
  for (const mantissas of LOG10_MANTISSAS) {
    const ticks = mantissaTicks(lo, hi, mantissas)
    if (ticks.length >= 4) return thin(ticks, 10)
  }
  const dense = mantissaTicks(lo, hi, LOG10_MANTISSAS[2]!)
  if (dense.length >= 3) return dense
  return linearTicks(lo, hi, 4).filter((v) => v > 0)
}

/** Powers of two inside [lo, hi], at most 10 of them. */
export const log2Ticks = (lo: number, hi: number): number[] => {
  if (!(lo > 0) || !(hi >= lo)) return []
  const ticks: number[] = []
  for (let k = Math.ceil(Math.log2(lo) - 1e-9); k <= Math.floor(Math.log2(hi) + 1e-9); k++) ticks.push(2 ** k)
  return thin(ticks, 10)
}

const logFraction = (domain: readonly [number, number], base: (v: number) => number) => {
  const a = base(domain[0])
  const span = base(domain[1]) - a
  return (v: number) => (span === 0 ? 0.5 : (base(v) - a) / span)
}

const linearFraction = (domain: readonly [number, number]) => {
  const span = domain[1] - domain[0]
  return (v: number) => (span === 0 ? 0.5 : (v - domain[0]) / span)
}

export interface AxisOptions {
  /** fixed domain (for example 0..1 for an accuracy) instead of one fitted to the data */
  readonly domain?: readonly [number, number]
  /** ticks to show (for example the evaluation lengths) instead of computed ones; those outside the domain drop */
  readonly ticks?: ReadonlyArray<number>
}

/**
 * An axis fitted to `values` (non-finite ones ignored; non-positive ones too on log axes). Log axes get a little
 * padding so that points do not sit on the frame; linear axes widen to whole tick steps.
 */
export const fitAxis = (kind: AxisKind, values: ReadonlyArray<number>, options: AxisOptions = {}): Axis => {
  const usable = values.filter((v) => Number.isFinite(v) && (kind === "linear" || v > 0))
  let domain: [number, number]
  let linearStep: number | null = null
  if (options.domain) domain = [options.domain[0], options.domain[1]]
  else if (usable.length === 0) domain = kind === "linear" ? [0, 1] : [1, 10]
  else {
    const lo = Math.min(...usable)
    const hi = Math.max(...usable)
    if (kind === "linear") {
      const fitted = linearDomain(lo, hi)
      domain = fitted.domain
      linearStep = fitted.step
    } else if (kind === "log2") domain = lo === hi ? [lo / 2, hi * 2] : [lo / 2 ** 0.3, hi * 2 ** 0.3]
    else {
      const [a, b] = lo === hi ? [lo / 1.5, hi * 1.5] : [lo, hi]
      const pad = Math.max(1.05, (b / a) ** 0.05)
      domain = [a / pad, b * pad]
    }
  }
  const inside = (v: number) => v >= domain[0] * (1 - 1e-12) - 1e-12 && v <= domain[1] * (1 + 1e-12) + 1e-12
  const computed =
    kind === "linear"
      ? linearStep !== null
        ? stepTicks(domain[0], domain[1], linearStep)
        : linearTicks(domain[0], domain[1])
      : kind === "log2"
        ? log2Ticks(domain[0], domain[1])
        : log10Ticks(domain[0], domain[1])
  const ticks = options.ticks ? [...new Set(options.ticks)].filter(inside).sort((a, b) => a - b) : computed
  const fraction =
    kind === "linear" ? linearFraction(domain) : kind === "log2" ? logFraction(domain, Math.log2) : logFraction(domain, Math.log10)
  return { kind, domain, ticks, fraction }
}
