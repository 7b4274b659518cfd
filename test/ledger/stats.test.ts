// Known values from scipy 1.17.1 (scipy.stats.t.cdf, norm.cdf, mannwhitneyu, ttest_rel, ttest_ind) and
// R's p.adjust(method = "holm").
import { describe, expect, it } from "vitest"
import { holmAdjust, mannWhitneyU, normalCdf, pairedTTest, signFlipTest, studentTCdf, welchTTest } from "../../ledger/stats.js"

describe("distribution functions", () => {
  it("Student t CDF matches scipy", () => {
    expect(studentTCdf(2.0, 10)).toBeCloseTo(0.9633059826146299, 12)
    expect(studentTCdf(-1.5, 3)).toBeCloseTo(0.11529193262241147, 12)
    expect(studentTCdf(0.3, 1)).toBeCloseTo(0.5927735790777423, 12)
    expect(studentTCdf(4.2, 60)).toBeCloseTo(0.9999550723162182, 12)
    expect(studentTCdf(0, 7)).toBe(0.5)
  })
  it("normal CDF matches scipy", () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 12)
    expect(normalCdf(-3.5)).toBeCloseTo(0.00023262907903552502, 14)
  })
})

describe("tests", () => {
  it("paired t-test matches scipy ttest_rel", () => {
    const a = [10.1, 9.8, 10.4, 10.0, 9.9]
    const b = [10.5, 10.1, 10.9, 10.2, 10.6]
    const r = pairedTTest(
      a.map((x, i) => x - b[i]),
      "less"
    )
    expect(r.statistic).toBeCloseTo(-4.882400827240402, 10)
    expect(r.pValue).toBeCloseTo(0.0040732514581384395, 10)
    expect(r.df).toBe(4)
  })
  it("Welch t-test matches scipy ttest_ind(equal_var=False)", () => {
    const r = welchTTest([10.1, 9.8, 10.4, 10.0, 9.9], [10.5, 10.1, 10.9, 10.2, 10.6, 11.0])
    expect(r.statistic).toBeCloseTo(-2.8318769809712108, 10)
    expect(r.df).toBeCloseTo(8.522487082080545, 10)
    expect(r.pValue).toBeCloseTo(0.02073678960194972, 10)
  })
  it("Mann-Whitney U exact matches scipy", () => {
    const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    expect(r.test).toBe("mann-whitney-exact")
    expect(r.statistic).toBe(0)
    expect(r.pValue).toBeCloseTo(0.007936507936507936, 14)
    const s = mannWhitneyU([1.1, 2.3, 2.9, 4.0, 5.5, 7.1], [3.0, 4.5, 6.0, 8.2, 9.9, 10.5, 11.0], "less")
    expect(s.statistic).toBe(6)
    expect(s.pValue).toBeCloseTo(0.01748251748251748, 14)
  })
  it("Mann-Whitney U with ties uses the corrected normal approximation (scipy asymptotic)", () => {
    const r = mannWhitneyU([1, 2, 2, 3, 4, 5, 5, 6], [3, 4, 5, 5, 6, 7, 8, 8, 9])
    expect(r.test).toBe("mann-whitney-normal")
    expect(r.statistic).toBe(12.5)
    expect(r.pValue).toBeCloseTo(0.025496068631499585, 10)
  })
  it("exact sign-flip: all n differences positive gives one-sided p = 2^-n", () => {
    expect(signFlipTest([0.3, 0.1, 0.5, 0.2, 0.4, 0.25], "greater").pValue).toBeCloseTo(1 / 64, 15)
    expect(signFlipTest([0.3, 0.1, 0.5, 0.2, 0.4, 0.25], "less").pValue).toBe(1)
    expect(signFlipTest([0.3, 0.1, 0.5, 0.2, 0.4, 0.25]).pValue).toBeCloseTo(2 / 64, 15)
    // one negative difference smaller than every positive one: sums >= observed are the identity and flipping it
    expect(signFlipTest([1, 2, 3, -0.5], "greater").pValue).toBeCloseTo(2 / 16, 15)
  })
  it("Holm adjustment matches R p.adjust", () => {
    expect(holmAdjust([0.01, 0.02, 0.03, 0.04, 0.05])).toEqual([0.05, 0.08, 0.09, 0.09, 0.09].map((x) => expect.closeTo(x, 12)))
    expect(holmAdjust([0.04, 0.001, 0.5])).toEqual([0.08, 0.003, 0.5].map((x) => expect.closeTo(x, 12)))
  })
})
