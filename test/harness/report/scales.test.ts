import { describe, expect, it } from "vitest"
import { fitAxis, linearTicks, log10Ticks, log2Ticks, niceStep } from "../../../harness/report/scales.js"
import { formatSignificant, formatSummary, formatTick } from "../../../harness/report/format-number.js"
import { summarize } from "../../../harness/report/stats.js"

const strictlyIncreasing = (xs: ReadonlyArray<number>) => xs.every((x, i) => i === 0 || x > xs[i - 1]!)

describe("log axes", () => {
  it("places log10 ticks in increasing order, inside the range, at increasing positions", () => {
    for (const [lo, hi] of [
      [3, 2000],
      [18, 65],
      [20, 24],
      [1.5, 1.2e5],
      [0.9, 1.1]
    ] as const) {
      const ticks = log10Ticks(lo, hi)
      expect(ticks.length, `${lo}..${hi}`).toBeGreaterThanOrEqual(2)
      expect(strictlyIncreasing(ticks)).toBe(true)
      for (const t of ticks) expect(t >= lo && t <= hi).toBe(true)
      const axis = fitAxis("log10", [lo, hi])
      const positions = axis.ticks.map(axis.fraction)
      expect(strictlyIncreasing(positions)).toBe(true)
      for (const p of positions) expect(p >= 0 && p <= 1).toBe(true)
    }
  })

  it("spaces decades equally on a log10 axis", () => {
    const axis = fitAxis("log10", [1, 1000], { domain: [1, 1000] })
    expect(axis.ticks).toEqual([1, 10, 100, 1000])
    const [a, b, c, d] = axis.ticks.map(axis.fraction)
    expect(b! - a!).toBeCloseTo(c! - b!, 12)
    expect(d! - c!).toBeCloseTo(1 / 3, 12)
  })

  it("uses 1-2-5 ticks for a range of a few decades, and no float noise", () => {
    expect(log10Ticks(3, 2000)).toEqual([5, 10, 20, 50, 100, 200, 500, 1000, 2000])
    expect(log10Ticks(0.02, 0.6)).toEqual([0.02, 0.05, 0.1, 0.2, 0.5])
  })

  it("puts doubling lengths at equal steps on a log2 axis", () => {
    expect(log2Ticks(48, 1100)).toEqual([64, 128, 256, 512, 1024])
    const axis = fitAxis("log2", [64, 128, 256, 512, 1024])
    const f = [64, 128, 256, 512, 1024].map(axis.fraction)
    for (let i = 2; i < f.length; i++) expect(f[i]! - f[i - 1]!).toBeCloseTo(f[1]! - f[0]!, 12)
    expect(f[0]!).toBeGreaterThan(0)
    expect(f[4]!).toBeLessThan(1)
  })
})

describe("linear axes", () => {
  it("picks the nice step closest to the target count", () => {
    expect(niceStep(256, 5)).toBe(50)
    expect(niceStep(1, 5)).toBe(0.2)
    expect(linearTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1])
  })

  it("widens the domain to whole steps around the data", () => {
    const axis = fitAxis("linear", [3.1, 6.4])
    expect(axis.domain[0]).toBeLessThanOrEqual(3.1)
    expect(axis.domain[1]).toBeGreaterThanOrEqual(6.4)
    expect(axis.ticks[0]).toBe(axis.domain[0])
    expect(axis.ticks.at(-1)).toBe(axis.domain[1])
  })
})

describe("numbers", () => {
  it("summarizes with the sample standard deviation", () => {
    const s = summarize([30, 32])!
    expect(s.mean).toBe(31)
    expect(s.sd).toBeCloseTo(Math.SQRT2, 12)
    expect(formatSummary(s)).toBe("31.00 ± 1.4 (n=2)")
    expect(formatSummary(summarize([7]))).toBe("7.000")
    expect(formatSummary(null)).toBe("-")
  })

  it("formats wide ranges readably", () => {
    expect(formatSignificant(123456)).toBe("123500")
    expect(formatSignificant(47065, 2)).toBe("47000")
    expect(formatSignificant(2.5e7)).toBe("2.500e+7")
    expect(formatSignificant(Number.POSITIVE_INFINITY)).toBe("inf")
    expect(formatTick(0.30000000000000004)).toBe("0.3")
    expect(formatTick(1e5)).toBe("1e5")
  })
})
